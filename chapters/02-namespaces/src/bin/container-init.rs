//! The init program of this chapter's containers: the code under test
//! (your exercise, or the solution), re-executed as `k8s-mini` re-executes
//! itself.

fn main() {
    chapter_02::namespaces::run_init_if_requested();
    eprintln!("container-init: this program only runs as a container's init program");
    std::process::exit(2);
}

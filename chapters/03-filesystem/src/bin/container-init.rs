//! The init program of this chapter's containers, and the program of its
//! built-in images: the code under test (your exercise, or the solution),
//! re-executed as `k8s-mini` re-executes itself.

fn main() {
    chapter_03::filesystem::run_init_if_requested();
    eprintln!("container-init: this program only runs as a container's init program");
    std::process::exit(2);
}

//! The init program of this chapter's containers, and the program of the
//! built-in images (pause, echo), re-executed as `k8s-mini` re-executes
//! itself.

fn main() {
    filesystem::run_init_if_requested();
    eprintln!("kubelet-init: this program only runs as a container's init program");
    std::process::exit(2);
}

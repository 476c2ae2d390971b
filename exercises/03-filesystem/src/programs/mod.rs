// Generated from solutions/03-filesystem/src/programs/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The programs of the built-in images.
//!
//! `k8s-mini/pause` and `k8s-mini/echo` hold one program: k8s-mini itself,
//! started with [`PAUSE_ARG`] or [`ECHO_ARG`]. One binary means nothing to
//! download or build for the images, and nothing that can be out of step
//! with the orchestrator. Inside the container the program has nothing but
//! its image: no shell, no `/etc/resolv.conf`, only the environment it is
//! given.

mod client;
mod echo;
mod http;
mod identity;
mod pause;
mod routes;

pub use client::{HttpResponse, get};
pub use http::{Request, parse_request_line};
pub use identity::Identity;
pub use routes::{Health, Reply, route};

/// The first argument that makes k8s-mini the pause program.
pub const PAUSE_ARG: &str = "__k8s-mini-pause";
/// The first argument that makes k8s-mini the echo server (or, with
/// `get URL`, its client).
pub const ECHO_ARG: &str = "__k8s-mini-echo";

// ANCHOR: run_program_if_requested
/// Call this first thing in `main` of a program that the built-in images
/// hold (k8s-mini does): when started with [`PAUSE_ARG`] or [`ECHO_ARG`],
/// it runs that program and never returns. Otherwise it returns at once.
pub fn run_program_if_requested() {
    let mut args = std::env::args_os().skip(1);
    match args.next() {
        Some(arg) if arg == PAUSE_ARG => pause::main(),
        Some(arg) if arg == ECHO_ARG => echo::main(args.collect()),
        _ => {}
    }
}
// ANCHOR_END: run_program_if_requested

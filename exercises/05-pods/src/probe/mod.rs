// Generated from solutions/05-pods/src/probe/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Liveness, readiness and startup probes: exec, HTTP GET and TCP socket.

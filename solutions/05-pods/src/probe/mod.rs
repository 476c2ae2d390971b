//! Liveness, readiness and startup probes: exec, HTTP GET and TCP socket.

//! Chapter 05's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_05::pods`: your
//! exercise (`exercises/05-pods`) by default, the reference solution
//! (`solutions/05-pods`) with `--features solution`. The pods' containers
//! run `pod-init` (src/bin/pod-init.rs) as their init program; it is also
//! the program of the built-in images.

#[cfg(not(feature = "solution"))]
pub use exercise as pods;
#[cfg(feature = "solution")]
pub use solution as pods;

mod agent;
mod describe;
mod lab;

pub use agent::{AgentArgs, agent_pods, application_pid, node_config};
pub use describe::{describe, events};
pub use lab::{LIMIT, Lab, free_subnet};
pub use testkit::{guard, redact};

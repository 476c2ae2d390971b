//! Chapter 08's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_08::kubelet`: your
//! exercise (`exercises/08-kubelet`) by default, the reference solution
//! (`solutions/08-kubelet`) with `--features solution`. The node's
//! containers run `kubelet-init` (src/bin/kubelet-init.rs) as their init program.

#[cfg(not(feature = "solution"))]
pub use exercise as kubelet;
#[cfg(feature = "solution")]
pub use solution as kubelet;

mod lab;

pub use lab::{LIMIT, Lab, Options, log_containing, pod};
pub use testkit::guard;

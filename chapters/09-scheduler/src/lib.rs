//! Chapter 09's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_09::scheduler`: your
//! exercise (`exercises/09-scheduler`) by default, the reference solution
//! (`solutions/09-scheduler`) with `--features solution`.

#[cfg(not(feature = "solution"))]
pub use exercise as scheduler;
#[cfg(feature = "solution")]
pub use solution as scheduler;

mod cluster;

pub use cluster::{node, pod, pod_with};

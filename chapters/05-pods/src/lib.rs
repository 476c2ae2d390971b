//! Chapter 05's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_05::pods`: your
//! exercise (`exercises/05-pods`) by default, the reference solution
//! (`solutions/05-pods`) with `--features solution`.

#[cfg(not(feature = "solution"))]
pub use exercise as pods;
#[cfg(feature = "solution")]
pub use solution as pods;

pub use testkit::{guard, redact};

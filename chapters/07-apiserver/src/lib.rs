//! Chapter 07's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_07::apiserver`: your
//! exercise (`exercises/07-apiserver`) by default, the reference solution
//! (`solutions/07-apiserver`) with `--features solution`.

#[cfg(not(feature = "solution"))]
pub use exercise as apiserver;
#[cfg(feature = "solution")]
pub use solution as apiserver;

mod lab;
mod process;

pub use lab::{Answer, Lab, kubectl, settings};
pub use process::start_server_program;
pub use testkit::guard;

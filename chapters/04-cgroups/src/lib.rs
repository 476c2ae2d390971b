//! Chapter 04's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_04::cgroups`: your
//! exercise (`exercises/04-cgroups`) by default, the reference solution
//! (`solutions/04-cgroups`) with `--features solution`.
//!
//! Two kinds of tests: some run on *fake trees*, temporary directories laid
//! out the way cgroupfs lays out v1 and v2 (so both code paths are tested on
//! any machine, without root), the others on this machine's real cgroups
//! (they need root).

#[cfg(not(feature = "solution"))]
pub use exercise as cgroups;
#[cfg(feature = "solution")]
pub use solution as cgroups;

mod ebpf;
mod fake;
mod lab;

pub use ebpf::run_device_program;
pub use fake::{FakeTree, changes, read_tree};
pub use lab::{Lab, is_dead};
pub use testkit::{guard, redact};

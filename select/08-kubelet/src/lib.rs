//! Chapter 08 (kubelet) as the later chapters and k8s-mini see it: the
//! reference solution, or, with the `learner` feature, the learner's
//! exercise (same public API, generated from the solution).

#[cfg(not(feature = "learner"))]
pub use solution_08_kubelet::*;

#[cfg(feature = "learner")]
pub use exercise_08_kubelet::*;

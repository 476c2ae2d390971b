//! Chapter 07 (apiserver) as the later chapters and k8s-mini see it: the
//! reference solution, or, with the `learner` feature, the learner's
//! exercise (same public API, generated from the solution).

#[cfg(not(feature = "learner"))]
pub use solution_07_apiserver::*;

#[cfg(feature = "learner")]
pub use exercise_07_apiserver::*;

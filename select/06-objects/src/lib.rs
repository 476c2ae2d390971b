//! Chapter 06 (objects) as the later chapters and k8s-mini see it: the
//! reference solution, or, with the `learner` feature, the learner's
//! exercise (same public API, generated from the solution).

#[cfg(not(feature = "learner"))]
pub use solution_06_objects::*;

#[cfg(feature = "learner")]
pub use exercise_06_objects::*;

//! Chapter 10 (controllers) as k8s-mini sees it: the reference solution, or,
//! with the `learner` feature, the learner's exercise (same public API,
//! generated from the solution).

#[cfg(not(feature = "learner"))]
pub use solution_10_controllers::*;

#[cfg(feature = "learner")]
pub use exercise_10_controllers::*;

//! Chapter 11 (services) as k8s-mini sees it: the reference solution, or,
//! with the `learner` feature, the learner's exercise (same public API,
//! generated from the solution).

#[cfg(not(feature = "learner"))]
pub use solution_11_services::*;

#[cfg(feature = "learner")]
pub use exercise_11_services::*;

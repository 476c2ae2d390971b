//! Which code each chapter's component comes from: the reference solution,
//! or the learner's exercise when its `learner-NN` feature is on.

#[cfg(not(feature = "learner-01"))]
pub use solution_01_process as process;

#[cfg(feature = "learner-01")]
pub use exercise_01_process as process;

#[cfg(not(feature = "learner-02"))]
pub use solution_02_namespaces as namespaces;

#[cfg(feature = "learner-02")]
pub use exercise_02_namespaces as namespaces;

/// The chapters whose learner code is built in, for a notice at start.
pub fn learner_chapters() -> Vec<&'static str> {
    let mut chapters = Vec::new();
    if cfg!(feature = "learner-01") {
        chapters.push("01-process");
    }
    if cfg!(feature = "learner-02") {
        chapters.push("02-namespaces");
    }
    chapters
}

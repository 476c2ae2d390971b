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

#[cfg(not(feature = "learner-03"))]
pub use solution_03_filesystem as filesystem;

#[cfg(feature = "learner-03")]
pub use exercise_03_filesystem as filesystem;

#[cfg(not(feature = "learner-04"))]
pub use solution_04_cgroups as cgroups;

#[cfg(feature = "learner-04")]
pub use exercise_04_cgroups as cgroups;

/// The chapters whose learner code is built in, for a notice at start.
pub fn learner_chapters() -> Vec<&'static str> {
    [
        (cfg!(feature = "learner-01"), "01-process"),
        (cfg!(feature = "learner-02"), "02-namespaces"),
        (cfg!(feature = "learner-03"), "03-filesystem"),
        (cfg!(feature = "learner-04"), "04-cgroups"),
    ]
    .into_iter()
    .filter_map(|(on, chapter)| on.then_some(chapter))
    .collect()
}

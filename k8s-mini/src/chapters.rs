//! Which code each chapter's component comes from: the reference solution,
//! or the learner's exercise when its `learner-NN` feature is on.

// Chapters 01 and 02 are chosen in their select crates, for every crate
// that uses them at once (see k8s-mini's Cargo.toml).
pub use select_01_process as process;
pub use select_02_namespaces as namespaces;

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

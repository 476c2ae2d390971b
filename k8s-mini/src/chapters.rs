//! Which code each chapter's component comes from: the reference solution,
//! or the learner's exercise when its `learner-NN` feature is on.

// Each chapter is chosen in its select crate, so that one switch reaches
// every crate built on it (see k8s-mini's Cargo.toml).
pub use select_01_process as process;
pub use select_02_namespaces as namespaces;
pub use select_03_filesystem as filesystem;
pub use select_04_cgroups as cgroups;
pub use select_05_pods as pods;
pub use select_06_objects as objects;
pub use select_07_apiserver as apiserver;
pub use select_08_kubelet as kubelet;
pub use select_09_scheduler as scheduler;
pub use select_10_controllers as controllers;
pub use select_11_services as services;

/// The chapters whose learner code is built in, for a notice at start.
pub fn learner_chapters() -> Vec<&'static str> {
    [
        (cfg!(feature = "learner-01"), "01-process"),
        (cfg!(feature = "learner-02"), "02-namespaces"),
        (cfg!(feature = "learner-03"), "03-filesystem"),
        (cfg!(feature = "learner-04"), "04-cgroups"),
        (cfg!(feature = "learner-05"), "05-pods"),
        (cfg!(feature = "learner-06"), "06-objects"),
        (cfg!(feature = "learner-07"), "07-apiserver"),
        (cfg!(feature = "learner-09"), "09-scheduler"),
        (cfg!(feature = "learner-08"), "08-kubelet"),
        (cfg!(feature = "learner-10"), "10-controllers"),
        (cfg!(feature = "learner-11"), "11-services"),
    ]
    .into_iter()
    .filter_map(|(on, chapter)| on.then_some(chapter))
    .collect()
}

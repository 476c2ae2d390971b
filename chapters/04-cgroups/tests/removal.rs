//! Removal: whatever is left is killed, every directory goes, children
//! before parents, and removing again is fine.
//! Hole exercised: `remove_tree` (src/remove.rs).

use std::fmt::Write;

use chapter_04::cgroups::{CgroupName, ExitStatus, Limits};
use chapter_04::{FakeTree, Lab, changes, guard};
use insta::{assert_snapshot, with_settings};

#[tokio::test]
async fn removing_a_pod_kills_its_processes_and_leaves_no_directory() {
    guard(async {
        let lab = Lab::new();
        let pod = lab.name(&["web-1"]);
        let app = lab.cgroups.create(&lab.name(&["web-1", "app"]), &Limits::default()).unwrap();
        let sidecar = lab
            .cgroups
            .create(&lab.name(&["web-1", "sidecar"]), &Limits::default())
            .unwrap();
        let mut app_process = lab.command_in(&app, "sleep", &["1000"]).spawn().unwrap();
        let mut sidecar_process = lab.command_in(&sidecar, "sleep", &["1000"]).spawn().unwrap();

        let mut report = String::new();
        writeln!(report, "directories before removal:").unwrap();
        for dir in lab.leftovers() {
            writeln!(report, "    {dir}").unwrap();
        }
        writeln!(report, "processes in app and sidecar: {} and {}", app.pids().unwrap().len(), sidecar.pids().unwrap().len()).unwrap();

        lab.cgroups.remove(&pod).unwrap();
        let app_status = ExitStatus::from_std(app_process.wait().await.unwrap());
        let sidecar_status = ExitStatus::from_std(sidecar_process.wait().await.unwrap());
        writeln!(report, "after removing {}:", lab.redact(&pod.to_string())).unwrap();
        writeln!(report, "    app's process: {app_status}").unwrap();
        writeln!(report, "    sidecar's process: {sidecar_status}").unwrap();
        writeln!(report, "    pod, app and sidecar exist: {}, {}, {}", lab.cgroups.exists(&pod), app.exists(), sidecar.exists()).unwrap();
        writeln!(report, "    directories: {:?}", lab.leftovers()).unwrap();

        let again = lab.cgroups.remove(&pod).map_err(|e| e.to_string());
        let app_again = app.remove().map_err(|e| e.to_string());
        writeln!(report, "removing the pod again: {again:?}; the app again: {app_again:?}").unwrap();
        lab.cgroups.remove(&lab.root_name()).unwrap();
        writeln!(report, "after removing the instance: {:?}", lab.leftovers()).unwrap();
        with_settings!({
            description => "a pod cgroup with two container cgroups, a sleep in each: Cgroups::remove(pod), twice",
            omit_expression => true,
        }, {
            assert_snapshot!(lab.redact(&report));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[test]
fn on_v2_the_kernel_kills_through_cgroup_kill() {
    let app = CgroupName::new("fake", &["app"]).unwrap();
    let tree = FakeTree::v2(&["k8s-mini-fake", "k8s-mini-fake/app"]);
    let before = tree.snapshot();
    tree.cgroups.open(&app).kill_all().unwrap();
    with_settings!({
        description => "Cgroup::kill_all on a fake v2 cgroup (cgroup.procs is empty, so it returns at once)",
        omit_expression => true,
    }, {
        assert_snapshot!(changes(&before, &tree.snapshot()));
    });
}

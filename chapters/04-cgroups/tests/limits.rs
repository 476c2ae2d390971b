//! Limits reach the right files, on v1 and v2; bad limits reach none.
//! Hole exercised: `Limits::writes` (src/limits.rs), and the CPU helpers.

use std::fmt::Write;

use chapter_04::cgroups::{CgroupName, Controller, Limits, Version};
use chapter_04::{FakeTree, Lab, changes};
use insta::{assert_snapshot, with_settings};

const MIB: u64 = 1024 * 1024;

fn container() -> CgroupName {
    CgroupName::new("fake", &["web-1", "app"]).unwrap()
}

const TREE: [&str; 3] = [
    "k8s-mini-fake",
    "k8s-mini-fake/web-1",
    "k8s-mini-fake/web-1/app",
];

fn guaranteed() -> Limits {
    Limits {
        memory_bytes: Some(64 * MIB),
        cpu_limit_millis: Some(250),
        cpu_request_millis: Some(250),
        pids_max: Some(100),
    }
}

#[test]
fn limits_on_a_v2_tree() {
    let tree = FakeTree::v2(&TREE);
    let before = tree.snapshot();
    let cgroup = tree.cgroups.create(&container(), &guaranteed()).unwrap();
    assert_eq!(cgroup.version(), Version::V2);
    with_settings!({
        description => "create k8s-mini-fake/web-1/app with 64 MiB, 250m CPU (limit and request), 100 pids on a fake v2 tree: the files that changed",
        omit_expression => true,
    }, {
        assert_snapshot!(changes(&before, &tree.snapshot()));
    });
}

#[test]
fn no_limits_on_a_v2_tree_without_swap() {
    let tree = FakeTree::v2(&TREE);
    std::fs::remove_file(tree.path("k8s-mini-fake/web-1/app/memory.swap.max")).unwrap();
    tree.set("cgroup.subtree_control", "cpu memory pids\n");
    let before = tree.snapshot();
    tree.cgroups
        .create(&container(), &Limits::default())
        .unwrap();
    with_settings!({
        description => "create with Limits::default() (BestEffort) on a v2 tree whose root already enables everything and has no swap: every limit is written as \"no limit\"",
        omit_expression => true,
    }, {
        assert_snapshot!(changes(&before, &tree.snapshot()));
    });
}

#[test]
fn limits_on_a_v1_tree() {
    let tree = FakeTree::v1(&TREE);
    let before = tree.snapshot();
    let limits = Limits {
        memory_bytes: Some(64 * MIB),
        cpu_limit_millis: Some(1500),
        cpu_request_millis: None,
        pids_max: Some(100),
    };
    tree.cgroups.create(&container(), &limits).unwrap();
    with_settings!({
        description => "create with 64 MiB, a 1500m CPU limit and no request, 100 pids on a fake v1 tree (cpu and cpuacct mounted together): the files that changed",
        omit_expression => true,
    }, {
        assert_snapshot!(changes(&before, &tree.snapshot()));
    });
}

#[test]
fn invalid_limits_are_refused_naming_the_field_and_nothing_is_created() {
    let cases = [
        (
            "no memory at all",
            Limits {
                memory_bytes: Some(0),
                ..Limits::default()
            },
        ),
        (
            "less than a page",
            Limits {
                memory_bytes: Some(64),
                ..Limits::default()
            },
        ),
        (
            "2 EiB",
            Limits {
                memory_bytes: Some(1 << 61),
                ..Limits::default()
            },
        ),
        (
            "a zero CPU limit",
            Limits {
                cpu_limit_millis: Some(0),
                ..Limits::default()
            },
        ),
        (
            "a negative CPU limit",
            Limits {
                cpu_limit_millis: Some(-500),
                ..Limits::default()
            },
        ),
        (
            "a million CPUs",
            Limits {
                cpu_limit_millis: Some(1_000_000_000),
                ..Limits::default()
            },
        ),
        (
            "a negative CPU request",
            Limits {
                cpu_request_millis: Some(-1),
                ..Limits::default()
            },
        ),
        (
            "zero processes",
            Limits {
                pids_max: Some(0),
                ..Limits::default()
            },
        ),
        (
            "more processes than the kernel has pids",
            Limits {
                pids_max: Some(1 << 40),
                ..Limits::default()
            },
        ),
    ];
    let mut report = String::new();
    for (layout, tree) in [("v1", FakeTree::v1(&[])), ("v2", FakeTree::v2(&[]))] {
        let before = tree.snapshot();
        for (what, limits) in &cases {
            let outcome = match tree.cgroups.create(&container(), limits) {
                Ok(_) => "created (it should have been refused)".to_string(),
                Err(error) => error.to_string(),
            };
            if layout == "v1" {
                writeln!(report, "{what}:\n    {outcome}").unwrap();
            }
        }
        let changed = changes(&before, &tree.snapshot());
        writeln!(report, "what changed in the {layout} tree: {changed}").unwrap();
    }
    with_settings!({
        description => "Cgroups::create with invalid limits: each error names the field; on a fake v1 then a fake v2 tree",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn a_missing_controller_is_an_error_that_names_it() {
    let tree = FakeTree::v2(&[]);
    tree.set("cgroup.controllers", "cpuset cpu io memory\n");
    let cgroups = chapter_04::cgroups::Cgroups::v2(tree.dir.path()).unwrap();
    let before = tree.snapshot();
    let error = cgroups.create(&container(), &guaranteed()).unwrap_err();
    let v1 = chapter_04::cgroups::Cgroups::v1([(Controller::Memory, tree.path("memory"))]);
    let v1_error = v1.create(&container(), &guaranteed()).unwrap_err();
    with_settings!({
        description => "v2 without pids in cgroup.controllers; v1 with only memory mounted",
        omit_expression => true,
    }, {
        assert_snapshot!(format!(
            "v2: {error}\nv1: {v1_error}\nwhat changed: {}",
            changes(&before, &tree.snapshot())
        ));
    });
}

/// The real files of this machine, read back from the kernel. Only on v1:
/// a v2 machine's files are the ones of `limits_on_a_v2_tree`.
#[test]
fn limits_on_this_machine() {
    let lab = Lab::new();
    if lab.cgroups.version() != Version::V1 {
        return testkit::skip("this machine has cgroup v2; limits_on_a_v2_tree covers its files");
    }
    let name = lab.name(&["web-1", "app"]);
    let cgroup = lab.cgroups.create(&name, &guaranteed()).unwrap();
    let files = [
        (Controller::Memory, "memory.limit_in_bytes"),
        (Controller::Memory, "memory.memsw.limit_in_bytes"),
        (Controller::Cpu, "cpu.cfs_period_us"),
        (Controller::Cpu, "cpu.cfs_quota_us"),
        (Controller::Cpu, "cpu.shares"),
        (Controller::Pids, "pids.max"),
    ];
    let read_all = |report: &mut String| {
        for (controller, file) in files {
            let path = cgroup.dir(controller).unwrap().join(file);
            let content = std::fs::read_to_string(&path).unwrap_or_else(|e| format!("({e})"));
            writeln!(report, "    {controller}: {file} = {}", content.trim()).unwrap();
        }
    };
    let mut report = format!("{}\n", lab.redact(&name.to_string()));
    writeln!(
        report,
        "created with 64 MiB, 250m CPU (limit and request), 100 pids:"
    )
    .unwrap();
    read_all(&mut report);
    // Raising memory must raise memory+swap first; lowering, the reverse.
    let bigger = Limits {
        memory_bytes: Some(256 * MIB),
        ..guaranteed()
    };
    cgroup.apply(&bigger).unwrap();
    writeln!(report, "after apply with 256 MiB:").unwrap();
    read_all(&mut report);
    cgroup.apply(&Limits::default()).unwrap();
    writeln!(report, "after apply with no limits:").unwrap();
    read_all(&mut report);
    lab.cgroups.remove(&lab.root_name()).unwrap();
    writeln!(report, "left after removal: {:?}", lab.leftovers()).unwrap();
    with_settings!({
        description => "this machine's v1 files, as the kernel reads them back",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
    lab.assert_no_leaks();
}

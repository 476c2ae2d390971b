//! Volumes: host paths mounted into the container.

use std::path::PathBuf;

use chapter_03::filesystem::rootfs::Volume;
use chapter_03::{Lab, guard};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

#[tokio::test]
async fn volumes_are_shared_with_the_host_and_read_only_ones_refuse_writes() {
    guard(async {
        let lab = Lab::new(INIT);
        let data = lab.tmp.path().join("data");
        let config = lab.tmp.path().join("config");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("settings"), "color=blue\n").unwrap();
        let single = lab.tmp.path().join("motd");
        std::fs::write(&single, "hello from the host\n").unwrap();
        let mut request = lab.busybox(
            "volumes",
            "echo written-inside > /data/out; cat /config/settings; \
             echo nope > /config/settings || echo 'config is read-only'; cat /etc/motd",
        );
        request.volumes = vec![
            Volume { source: data.clone(), target: "/data".into(), read_only: false },
            Volume { source: config.clone(), target: "/config".into(), read_only: true },
            Volume { source: single, target: "/etc/motd".into(), read_only: true },
        ];
        let report = lab.run(&request).await;
        let on_host = std::fs::read_to_string(data.join("out")).unwrap_or_else(|error| error.to_string());
        let settings = std::fs::read_to_string(config.join("settings")).unwrap();
        with_settings!({
            description => "a read-write directory volume, a read-only one and a read-only single file; then what the host sees",
            omit_expression => true,
        }, {
            assert_snapshot!(format!("{report}\n\non the host: data/out = {on_host:?}, config/settings = {settings:?}"));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn bad_volumes_and_images_are_refused_before_anything_starts() {
    guard(async {
        let lab = Lab::new(INIT);
        let mut reports = Vec::new();
        let mut missing = lab.busybox("missing-source", "true");
        missing.volumes = vec![Volume { source: lab.tmp.path().join("nothing"), target: "/data".into(), read_only: false }];
        reports.push(("a volume whose source does not exist", lab.run(&missing).await));
        let mut relative = lab.busybox("relative-target", "true");
        relative.volumes = vec![Volume { source: lab.tmp.path().to_path_buf(), target: PathBuf::from("data"), read_only: false }];
        reports.push(("a relative volume target", lab.run(&relative).await));
        let mut climbing = lab.busybox("climbing-target", "true");
        climbing.volumes = vec![Volume { source: lab.tmp.path().to_path_buf(), target: PathBuf::from("/data/../../etc"), read_only: false }];
        reports.push(("a volume target with ..", lab.run(&climbing).await));
        let mut unknown = lab.busybox("unknown-image", "true");
        unknown.image = "registry.example/team/app:1.2".into();
        reports.push(("an image that is not in the store", lab.run(&unknown).await));
        let text: Vec<String> = reports.iter().map(|(what, report)| format!("--- {what}\n{report}")).collect();
        with_settings!({
            description => "containers that are refused: each error names the problem, and the state directory stays empty",
            omit_expression => true,
        }, {
            assert_snapshot!(text.join("\n\n"));
        });
        lab.assert_no_leaks();
    })
    .await;
}

/// Unmounts what a test mounted on the host, even when the test fails.
struct HostMount(PathBuf);

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

#[tokio::test]
async fn a_read_only_volume_is_read_only_all_the_way_down() {
    guard(async {
        let lab = Lab::new(INIT);
        // The volume's source has a filesystem mounted inside it, as a
        // host path often has: the recursive bind brings it along, and it
        // must not stay writable.
        let config = lab.tmp.path().join("config");
        let sub = config.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        nix::mount::mount(Some("tmpfs"), &sub, Some("tmpfs"), nix::mount::MsFlags::empty(), Some("size=64k")).unwrap();
        let _unmount = HostMount(sub.clone());
        std::fs::write(sub.join("settings"), "color=blue\n").unwrap();
        let mut request = lab.busybox(
            "nested",
            "cat /config/sub/settings; \
             touch /config/new || echo 'the volume refuses writes'; \
             touch /config/sub/new || echo 'the filesystem mounted inside it refuses writes too'",
        );
        request.volumes = vec![Volume { source: config, target: "/config".into(), read_only: true }];
        let report = lab.run(&request).await;
        let untouched = !sub.join("new").exists();
        with_settings!({
            description => "a read-only volume whose source has a tmpfs mounted at sub/: both refuse writes",
            omit_expression => true,
        }, {
            assert_snapshot!(format!("{report}\n\nnothing new on the host: {untouched}"));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn a_volume_target_through_a_symlink_stays_inside_the_root() {
    guard(async {
        let lab = Lab::new(INIT);
        // Volume "links" holds an absolute symlink to a host directory; a
        // second volume is mounted through it. Inside the root, that symlink
        // means [root]/<that path>, never the host's directory.
        let outside = lab.tmp.path().join("outside");
        let links = lab.tmp.path().join("links");
        let data = lab.tmp.path().join("data");
        std::fs::create_dir_all(&links).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("marker"), "the data volume\n").unwrap();
        std::os::unix::fs::symlink(&outside, links.join("away")).unwrap();
        std::os::unix::fs::symlink("../../../../../../../..", links.join("up")).unwrap();
        let mut request = lab.busybox(
            "through",
            "cat /links/away/marker; cat /links/up/etc/hosts-data/marker; \
             echo \"/links/away is $(readlink /links/away)\"",
        );
        request.volumes = vec![
            Volume { source: links, target: "/links".into(), read_only: false },
            Volume { source: data.clone(), target: "/links/away".into(), read_only: true },
            Volume { source: data, target: "/links/up/etc/hosts-data".into(), read_only: true },
        ];
        let report = lab.run(&request).await;
        let on_host = outside.exists() || std::path::Path::new("/etc/hosts-data").exists();
        with_settings!({
            description => "a volume mounted at /links/away, where /links/away is a symlink to a host directory, and one at /links/up/etc/hosts-data, where up -> ../../../../..: both land inside the root",
            omit_expression => true,
        }, {
            assert_snapshot!(format!("{report}\n\nanything made on the host: {on_host}"));
        });
        lab.assert_no_leaks();
    })
    .await;
}

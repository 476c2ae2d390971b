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

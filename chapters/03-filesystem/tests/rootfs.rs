//! The container's root filesystem: its image, its own layer, its own
//! /proc, /dev and /etc, and nothing of the host.

use chapter_03::filesystem::rootfs::{Layer, Volume};
use chapter_03::{Lab, guard};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

#[tokio::test]
async fn the_container_sees_its_image_and_not_the_host() {
    guard(async {
        let lab = Lab::new(INIT);
        let marker = lab.tmp.path().join("host-secret");
        std::fs::write(&marker, "secret\n").unwrap();
        let script = format!(
            "ls /; cd /../../..; echo \"/../../.. is $(pwd)\"; \
             if [ -e {0} ]; then echo 'host file reachable'; else echo 'host file unreachable'; fi; \
             ls -l /bin/sh | sed 's/.* \\/bin/\\/bin/'",
            marker.display()
        );
        let report = lab.run(&lab.busybox("look", &script)).await;
        with_settings!({
            description => "in a busybox container: `ls /`, climbing above /, a host file by its full path, what /bin/sh is",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn proc_dev_sys_and_etc_belong_to_the_container() {
    guard(async {
        let lab = Lab::new(INIT);
        let script = "echo '# /dev:'; ls /dev; echo '# /etc/hostname:'; cat /etc/hostname; \
             echo '# ps:'; ps -o pid,comm; \
             echo '# masked:'; echo \"/proc/keys has $(wc -c < /proc/keys) bytes\"; \
             echo \"/proc/acpi has $(ls /proc/acpi | wc -l) entries\"; \
             echo \"/sys/firmware has $(ls /sys/firmware | wc -l) entries\"; \
             echo '# read-only:'; echo 1 > /proc/sys/kernel/domainname || true; touch /sys/x || true";
        let mut request = lab.busybox("box", script);
        request.etc.hostname = "box".into();
        let report = lab.run(&request).await;
        with_settings!({
            description => "/dev holds the runtime's device set; /etc/hostname is the container's; ps sees two processes; /proc/keys, /proc/acpi, /sys/firmware are masked; /proc/sys and /sys refuse writes",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn root_inside_cannot_mount_and_holds_only_the_default_capabilities() {
    guard(async {
        let lab = Lab::new(INIT);
        let script = "mkdir /mnt; mount -t tmpfs none /mnt; echo \"mount exit status $?\"; \
             grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status";
        let report = lab.run(&lab.busybox("caps", script)).await;
        with_settings!({
            description => "uid 0 in the container: mount is refused; capabilities are containerd's default set (00000000a80425fb), none ambient; no_new_privs is on",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

async fn writes_stay_in_the_layer(layer: Layer) -> String {
    let lab = Lab::new(INIT).with_layer(layer);
    let writer = lab
        .run(&lab.busybox("writer", "echo hello > /hello; echo changed >> /etc/passwd; rm /bin/vi; ls /hello; tail -1 /etc/passwd"))
        .await;
    let reader = lab
        .run(&lab.busybox("reader", "ls /hello; tail -1 /etc/passwd; ls /bin/vi"))
        .await;
    let image = lab.containers.store.get("busybox").unwrap().rootfs;
    let untouched = !image.join("hello").exists() && image.join("bin/vi").exists();
    lab.assert_no_leaks();
    format!("{writer}\n\n{reader}\n\nthe image on the host is untouched: {untouched}")
}

#[tokio::test]
async fn writes_go_to_the_containers_overlay_layer_and_vanish_with_it() {
    guard(async {
        let report = writes_stay_in_the_layer(Layer::Overlay).await;
        with_settings!({
            description => "overlay layer: one container creates /hello, appends to /etc/passwd and deletes /bin/vi; a second container of the same image sees none of it",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
    })
    .await;
}

#[tokio::test]
async fn the_copy_layer_behaves_the_same() {
    guard(async {
        let report = writes_stay_in_the_layer(Layer::Copy).await;
        with_settings!({
            description => "copy layer (the fallback without overlayfs): the same story as with overlay",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
    })
    .await;
}

#[tokio::test]
async fn a_read_only_root_refuses_writes() {
    guard(async {
        let lab = Lab::new(INIT);
        let mut request = lab.busybox("frozen", "touch /new || echo \"touch exit status $?\"; echo ok > /dev/null && echo '/dev still works'");
        request.read_only_root = true;
        let report = lab.run(&request).await;
        with_settings!({
            description => "readOnlyRootFilesystem: writing to / fails with EROFS; /dev/null stays writable",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn the_devices_work_and_a_device_file_in_a_volume_does_not() {
    guard(async {
        let lab = Lab::new(INIT);
        // A volume whose source holds a device file, made on the host: the
        // null device under another name (any device would do; this one is
        // harmless if it ever opened).
        let volume = lab.tmp.path().join("volume");
        std::fs::create_dir(&volume).unwrap();
        nix::sys::stat::mknod(
            &volume.join("host-device"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        )
        .unwrap();
        let script = "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done; \
             echo \"/dev/ptmx -> $(readlink /dev/ptmx)\"; \
             echo x > /dev/null && echo 'write /dev/null: ok'; \
             echo \"read /dev/zero:$(head -c 4 /dev/zero | od -An -tx1)\"; \
             echo x > /dev/full || echo 'write /dev/full: refused, as it should be'; \
             echo \"read /dev/urandom: $(head -c 16 /dev/urandom | wc -c) bytes\"; \
             (exec 3<>/dev/ptmx) && echo 'open /dev/ptmx: ok'; \
             cat /dev/tty || echo '/dev/tty: no terminal, as it should be'; \
             echo x > /volume/host-device || echo 'the device file in the volume: refused'; \
             flags() { awk -v m=\"$1\" '$5 == m { print $6 }' /proc/self/mountinfo | tr , '\\n' | grep -xE 'ro|rw|nosuid|nodev|noexec' | tr '\\n' ' '; }; \
             for m in /dev /dev/pts /dev/shm /dev/mqueue /proc /sys /volume; do echo \"$m: $(flags $m)\"; done";
        let mut request = lab.busybox("devices", script);
        request.volumes = vec![Volume { source: volume, target: "/volume".into(), read_only: false }];
        let report = lab.run(&request).await;
        with_settings!({
            description => "runc's device set in /dev, each working as it should; a device file that reached a volume cannot be opened (the volume is nodev); the mount flags of /dev and friends, as runc sets them",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn the_default_seccomp_filter_refuses_what_docker_refuses() {
    guard(async {
        let lab = Lab::new(INIT);
        // Without the filter, any process may make a user namespace (and
        // be root with every capability in it); dmesg would meet only the
        // missing capability.
        let script = "grep -E '^Seccomp' /proc/self/status; \
             unshare -U true; echo \"unshare of a user namespace: exit status $?\"; \
             dmesg > /dev/null; echo \"dmesg: exit status $?\"; \
             echo \"an allowed personality (linux32): $(linux32 uname -m)\"";
        let report = lab.run(&lab.busybox("filtered", script)).await;
        with_settings!({
            description => "a container runs under the default seccomp filter (mode 2, one filter): creating a user namespace and reading the kernel log are refused with EPERM; the personalities Docker allows still work",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

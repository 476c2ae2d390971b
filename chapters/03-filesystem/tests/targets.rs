//! Mount targets are opened once, inside the root, and mounted through the
//! descriptor: what happens to their path afterwards cannot redirect the
//! mount (runc's CVE-2021-30465 was a symlink swapped in between).

use std::os::fd::AsFd;
use std::path::Path;

use chapter_03::filesystem::rootfs::{Attributes, Kind, Target, open_root};
use insta::{assert_snapshot, with_settings};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

/// Runs `work` on a thread of its own in a mount namespace of its own, whose
/// mounts all vanish with the thread.
fn in_private_mount_namespace<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNS).expect("a mount namespace for this thread");
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .expect("private mounts");
        work()
    })
    .join()
    .expect("the thread finishes")
}

#[test]
fn a_target_swapped_for_a_symlink_after_opening_still_gets_the_mount() {
    if !testkit::is_root() {
        return testkit::skip("this test mounts, which needs root");
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, outside, source) = (
        tmp.path().join("root"),
        tmp.path().join("outside"),
        tmp.path().join("source"),
    );
    for dir in [root.join("data"), outside.clone(), source.clone()] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(source.join("marker"), "mounted\n").unwrap();
    let report = in_private_mount_namespace(move || {
        let root_fd = open_root(&root).unwrap();
        let target = Target::open(root_fd.as_fd(), Path::new("/data"), Kind::Directory).unwrap();
        // The race, won by the attacker every time: between the check and
        // the mount, [root]/data becomes a symlink to a directory outside.
        std::fs::rename(root.join("data"), root.join("data-opened")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("data")).unwrap();
        let bound = target.bind(&source, Attributes::VOLUME);
        format!(
            "bind: {bound:?}\nthe directory that was opened holds the volume: {}\nthe directory outside holds it: {}",
            root.join("data-opened/marker").exists(),
            outside.join("marker").exists()
        )
    });
    with_settings!({
        description => "Target::open([root], /data), then /data is swapped for a symlink to a directory outside the root, then Target::bind: the mount lands on the directory that was opened",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

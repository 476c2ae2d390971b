//! The image store: names, imports (directories, tar, tar.gz, hostile
//! archives), atomic replacement, listing, and the built-in images.
//!
//! Holes: `ImageName::parse` (src/image/name.rs), `entry_destination`
//! (src/image/archive.rs).

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chapter_03::filesystem::image::{
    BUSYBOX_IMAGE, BuiltinReport, ECHO_IMAGE, ImageConfig, ImageError, ImageName, ImageStore,
    PAUSE_IMAGE, entry_destination, find_busybox, shared_libraries,
};
use chapter_03::filesystem::programs::ECHO_ARG;
use insta::{assert_snapshot, with_settings};
use testkit::redact;

const PROGRAM: &str = env!("CARGO_BIN_EXE_container-init");

#[test]
fn image_names_and_where_they_live() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let long = format!("team/{}", "a".repeat(250));
    let names = [
        "busybox",
        "k8s-mini/echo",
        "registry.example/team/app:1.2",
        "localhost:5000/app",
        "app:v1.0-rc_1",
        "",
        "/etc/passwd",
        "../escape",
        "team/../../escape",
        "a//b",
        "trailing/",
        "Busybox",
        ".import-1-0",
        "app:",
        "app:-x",
        "with space",
        "nul\0byte",
        "app@sha256:0123abcd",
        &long,
    ];
    let mut table = String::new();
    for name in names {
        let shown = if name.len() > 40 {
            format!("{}... ({} bytes)", &name[..20], name.len())
        } else {
            format!("{name:?}")
        };
        let line = match (ImageName::parse(name), store.image_dir(name)) {
            (Ok(parsed), Ok(dir)) => format!(
                "{parsed}  (repository {}, tag {})\n    in {}",
                parsed.repository(),
                parsed.tag(),
                dir.display()
            ),
            (Ok(parsed), Err(error)) => format!("{parsed}\n    {error}"),
            (Err(error), _) => format!("{error}"),
        };
        let line = line.replace(&long, "team/aaa...");
        writeln!(table, "{shown}\n    {}", line.replace('\n', "\n    ")).unwrap();
    }
    with_settings!({
        description => "ImageName::parse and ImageStore::image_dir: valid names get a tag and one escaped directory inside the store; the others are refused, saying why",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&table, tmp.path()));
    });
}

#[test]
fn where_an_archive_entry_may_go() {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    fs::create_dir_all(rootfs.join("usr/lib")).unwrap();
    symlink("/etc", rootfs.join("etc")).unwrap();
    symlink("usr/lib", rootfs.join("lib")).unwrap();
    let entries = [
        "bin/sh",
        "./bin/sh",
        "usr/lib/",
        "usr/./lib/libc.so",
        "/etc/passwd",
        "../escape",
        "usr/../../escape",
        "etc",
        "etc/cron.d/evil",
        "lib",
        "lib/libc.so",
    ];
    let mut table = String::from("rootfs has usr/lib/, etc -> /etc, lib -> usr/lib\n\n");
    for entry in entries {
        let outcome = match entry_destination(&rootfs, Path::new(entry)) {
            Ok(path) => redact(&path.display().to_string(), &rootfs).replace("[tmp]", "ROOTFS"),
            Err(reason) => format!("refused: {reason}"),
        };
        writeln!(table, "{entry:<20} {outcome}").unwrap();
    }
    with_settings!({
        description => "entry_destination: where each archive entry would be written, or why it must not be",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn a_directory_is_imported_as_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    sample_tree(&source, tmp.path());
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let config = ImageConfig {
        entrypoint: vec!["/bin/hello".into()],
        cmd: vec!["--loud".into()],
        env: vec![("GREETING".into(), "hi".into())],
        working_dir: Some("/usr".into()),
    };
    let mut last = None;
    let image = store
        .import_with_progress("k8s-mini/demo:1.0", &source, config, &mut |progress| {
            last = Some(progress)
        })
        .unwrap();
    let last = last.unwrap();
    let report = format!(
        "image: {}\nrootfs: {}\nconfig: {:?}\nprogress at the end: {} entries, {} bytes\n\n\
         the image's rootfs:\n{}\nthe store:\n{}\nimage.json:\n{}",
        image.name,
        image.rootfs.display(),
        image.config,
        last.files,
        last.bytes,
        tree(&image.rootfs),
        tree_depth(store.dir(), 1),
        record(&store, "k8s-mini/demo:1.0"),
    );
    assert_eq!(store.get("k8s-mini/demo:1.0").unwrap(), image);
    with_settings!({
        description => "import of a directory: modes kept (setuid, read-only directories), symlinks copied as symlinks and never followed (escape -> ../outside stays a link: the secret behind it is not copied), the fifo left out; then the store's layout",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn tar_and_tar_gz_archives_are_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = Tar::new()
        .dir("./", 0o755)
        .dir("./bin/", 0o755)
        .file("./bin/hello", 0o755, b"#!/bin/sh\necho hello\n")
        .hard_link("./bin/hello-again", "./bin/hello")
        .symlink("./bin/sh", "/bin/busybox")
        .file("./etc/motd", 0o644, b"welcome\n") // no entry for etc/: made anyway
        .symlink("./etc/localtime", "/usr/share/zoneinfo/UTC")
        .dir("./readonly/", 0o555)
        .file("./readonly/inside", 0o444, b"x")
        .file("./sticky/../sticky-file", 0o644, b"") // refused: shows the whole import fails
        .finish();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let hostile = tmp.path().join("hostile.tar");
    fs::write(&hostile, &archive).unwrap();
    let refused = store
        .import("demo", &hostile, ImageConfig::default())
        .unwrap_err();

    let archive = Tar::new()
        .dir("./", 0o755)
        .dir("./bin/", 0o755)
        .file("./bin/hello", 0o755, b"#!/bin/sh\necho hello\n")
        .hard_link("./bin/hello-again", "./bin/hello")
        .symlink("./bin/sh", "/bin/busybox")
        .file("./etc/motd", 0o644, b"welcome\n")
        .symlink("./etc/localtime", "/usr/share/zoneinfo/UTC")
        .dir("./readonly/", 0o555)
        .file("./readonly/inside", 0o444, b"x")
        .finish();
    let plain = tmp.path().join("demo.tar");
    fs::write(&plain, &archive).unwrap();
    let gzip = tmp.path().join("demo.tgz");
    fs::write(&gzip, gzip_bytes(&archive)).unwrap();

    let from_tar = store
        .import("demo:tar", &plain, ImageConfig::default())
        .unwrap();
    let from_gzip = store
        .import("demo:gzip", &gzip, ImageConfig::default())
        .unwrap();
    let hello = from_tar.rootfs.join("bin/hello");
    let again = from_tar.rootfs.join("bin/hello-again");
    let linked = fs::metadata(&hello).unwrap().ino() == fs::metadata(&again).unwrap().ino();
    assert_eq!(tree(&from_tar.rootfs), tree(&from_gzip.rootfs));
    let report = format!(
        "one bad entry refuses the whole archive:\n  {refused}\n\n\
         demo.tar and demo.tgz (named .tgz: the format comes from the content) give the same rootfs:\n{}\n\
         bin/hello-again is a hard link to bin/hello: {}\n\nthe store:\n{}",
        tree(&from_tar.rootfs),
        yes(linked),
        tree_depth(store.dir(), 0),
    );
    with_settings!({
        description => "import of a tar and of a gzip tar: directories, files, a hard link, symlinks (absolute ones kept as they are), a read-only directory; parents without an entry are made",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn hostile_archives_cannot_write_outside_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("target"), "untouched\n").unwrap();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let out = outside.display().to_string();
    let cases: Vec<(&str, Tar)> = vec![
        (
            "a `..` entry",
            Tar::new().file("../../outside/planted", 0o644, b"owned"),
        ),
        (
            "`..` in the middle",
            Tar::new().file("etc/../../../outside/planted", 0o644, b"owned"),
        ),
        (
            "an absolute entry",
            Tar::new().file(&format!("{out}/planted"), 0o644, b"owned"),
        ),
        (
            "a symlink to a directory outside, then a file through it",
            Tar::new()
                .symlink("link", &out)
                .file("link/planted", 0o644, b"owned"),
        ),
        (
            "a relative symlink out, then a directory through it",
            Tar::new()
                .symlink("up", "../../../..")
                .dir("up/made-dir/", 0o755),
        ),
        (
            "a symlink to a file outside, then a hard link through it",
            Tar::new()
                .symlink("link", &out)
                .hard_link("stolen", "link/target"),
        ),
        (
            "a hard link to a file outside",
            Tar::new().hard_link("stolen", "../../outside/target"),
        ),
        (
            "a hard link to an absolute path",
            Tar::new().hard_link("stolen", &format!("{out}/target")),
        ),
    ];
    let mut report = String::new();
    for (what, tar) in cases {
        let archive = tmp.path().join("hostile.tar");
        fs::write(&archive, tar.finish()).unwrap();
        let outcome = match store.import("hostile", &archive, ImageConfig::default()) {
            Ok(_) => "imported (it should have been refused)".to_string(),
            Err(error) => error.to_string(),
        };
        writeln!(report, "{what}:\n  {outcome}").unwrap();
    }
    // A symlink that points outside is harmless as long as nothing is
    // written through it: it is kept, as a symlink.
    let archive = tmp.path().join("harmless.tar");
    fs::write(&archive, Tar::new().symlink("link", &out).finish()).unwrap();
    let harmless = store
        .import("harmless", &archive, ImageConfig::default())
        .unwrap();
    writeln!(
        report,
        "\na symlink to the outside alone is imported, as a symlink:\n{}",
        tree(&harmless.rootfs)
    )
    .unwrap();
    writeln!(report, "outside afterwards:\n{}", tree(&outside)).unwrap();
    writeln!(
        report,
        "the store afterwards:\n{}",
        tree_depth(store.dir(), 0)
    )
    .unwrap();
    with_settings!({
        description => "hostile tar archives (`..`, absolute names, writes and hard links through symlinks): each is refused whole, nothing lands outside, nothing is left in the store",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn a_failed_import_leaves_no_trace_and_keeps_the_previous_image() {
    let tmp = tempfile::tempdir().unwrap();
    let images = tmp.path().join("images");
    let store = ImageStore::open(&images).unwrap();
    let v1 = tmp.path().join("v1");
    fs::create_dir_all(&v1).unwrap();
    fs::write(v1.join("version"), "1\n").unwrap();
    store.import("app", &v1, ImageConfig::default()).unwrap();

    // Good entries first: the failure comes once part of it is unpacked.
    let bad_tar = tmp.path().join("v2-bad.tar");
    let tar = Tar::new()
        .file("version", 0o644, b"2\n")
        .file("data/big", 0o644, &[7; 100_000])
        .file("../escape", 0o644, b"x");
    fs::write(&bad_tar, tar.finish()).unwrap();
    let not_archive = tmp.path().join("notes.txt");
    fs::write(&not_archive, "just text\n").unwrap();
    let xz = tmp.path().join("image.tar.xz");
    fs::write(&xz, b"\xfd7zXZ\0 and the rest").unwrap();
    let mut report = String::new();
    for source in [bad_tar, tmp.path().join("missing"), not_archive, xz] {
        let error = store
            .import("app", &source, ImageConfig::default())
            .unwrap_err();
        writeln!(report, "{error}").unwrap();
    }
    let version = |store: &ImageStore| {
        let rootfs = store.get("app").unwrap().rootfs;
        fs::read_to_string(rootfs.join("version")).unwrap()
    };
    writeln!(
        report,
        "\nafter four failed imports, app has version {}",
        version(&store)
    )
    .unwrap();
    writeln!(report, "the store:\n{}", tree_depth(&images, 0)).unwrap();

    let v2 = tmp.path().join("v2");
    fs::create_dir_all(&v2).unwrap();
    fs::write(v2.join("version"), "2\n").unwrap();
    store.import("app", &v2, ImageConfig::default()).unwrap();
    writeln!(
        report,
        "after importing v2 over it, app has version {}",
        version(&store)
    )
    .unwrap();
    writeln!(report, "the store:\n{}", tree_depth(&images, 0)).unwrap();

    // What a crashed import leaves: a staging directory of a dead process
    // goes at the next open; one of a live process (this one) stays.
    fs::create_dir_all(images.join(".import-2147483647-0/rootfs")).unwrap();
    let ours = images.join(format!(".import-{}-999", std::process::id()));
    fs::create_dir_all(&ours).unwrap();
    ImageStore::open(&images).unwrap();
    let ours_name = ours.file_name().unwrap().to_string_lossy().into_owned();
    writeln!(
        report,
        "after a crash, the next open clears the dead import's directory:\n{}",
        tree_depth(&images, 0).replace(&ours_name, ".import-[this process]-999")
    )
    .unwrap();
    fs::remove_dir(&ours).unwrap();
    with_settings!({
        description => "imports that fail (an unsafe entry after good ones, a missing source, a text file, an xz archive) leave no trace and keep the previous image; a good import replaces it in one step",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn list_get_and_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let source = tmp.path().join("source");
    fs::create_dir_all(source.join("bin")).unwrap();
    fs::write(source.join("bin/tool"), [1; 1000]).unwrap();
    fs::write(source.join("readme"), "hello\n").unwrap();
    symlink("bin/tool", source.join("tool")).unwrap();
    for name in [
        "zeta",
        "registry.example/team/app:1.2",
        "alpha:2",
        "alpha:10",
    ] {
        store.import(name, &source, ImageConfig::default()).unwrap();
    }
    let mut report = String::new();
    let table = |store: &ImageStore| {
        let mut table = format!("{:<34} {:>6} {:>6}  IMPORTED\n", "NAME", "SIZE", "FILES");
        for image in store.list().unwrap() {
            assert!(
                is_rfc3339_seconds(&image.imported_at),
                "imported_at {:?} should be an RFC 3339 UTC time like 2024-05-01T12:00:00Z",
                image.imported_at
            );
            let line = format!(
                "{:<34} {:>6} {:>6}  [time]",
                image.name, image.size, image.files
            );
            table.push_str(line.trim_end());
            table.push('\n');
        }
        table
    };
    writeln!(report, "{}", table(&store)).unwrap();
    store.remove("alpha:2").unwrap();
    writeln!(report, "after remove(\"alpha:2\"):\n{}", table(&store)).unwrap();
    for (what, error) in [
        ("get(\"alpha:2\")", store.get("alpha:2").unwrap_err()),
        ("get(\"nginx\")", store.get("nginx").unwrap_err()),
        ("remove(\"nginx\")", store.remove("nginx").unwrap_err()),
        ("get(\"../images\")", store.get("../images").unwrap_err()),
    ] {
        writeln!(report, "{what}: {error}").unwrap();
    }
    with_settings!({
        description => "list: sorted by name, sizes in bytes of the regular files, files counted without directories; remove; and the errors of get and remove for an unknown image",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn built_in_images_are_installed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let busybox = find_busybox().expect(
        "this test needs busybox on the host, for the busybox image: apt-get install busybox-static",
    );
    // A copy of the program, in the same filesystem as the store (so a
    // hard link is possible) and whose time this test may change.
    let program = tmp.path().join("bin/k8s-mini");
    fs::create_dir_all(program.parent().unwrap()).unwrap();
    fs::copy(PROGRAM, &program).unwrap();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();

    let first = store
        .install_builtin_from(&program, Some(&busybox))
        .unwrap();
    let mut report = format!("first install:\n{}\n", render(&first));
    let libraries = shared_libraries(&program).unwrap();
    for name in [PAUSE_IMAGE, ECHO_IMAGE] {
        let image = store.get(name).unwrap();
        let k8s_mini = fs::metadata(image.rootfs.join("k8s-mini")).unwrap();
        let all_there = libraries.iter().all(|library| {
            let inside = image.rootfs.join(library.strip_prefix("/").unwrap());
            fs::metadata(inside).is_ok_and(|meta| meta.is_file())
        });
        writeln!(
            report,
            "{}: entrypoint {:?}, cmd {:?}, env {:?}\n{}\
             every library ldd lists for the program is at its path in the image: {}\n\
             /k8s-mini is a hard link to the program: {}\n\
             /etc/passwd:\n{}/etc/group:\n{}",
            image.name,
            image.config.entrypoint,
            image.config.cmd,
            image.config.env,
            tree_without(&image.rootfs, &libraries),
            yes(all_there),
            yes(k8s_mini.ino() == fs::metadata(&program).unwrap().ino()),
            indent(&fs::read_to_string(image.rootfs.join("etc/passwd")).unwrap()),
            indent(&fs::read_to_string(image.rootfs.join("etc/group")).unwrap()),
        )
        .unwrap();
    }
    let image = store.get(BUSYBOX_IMAGE).unwrap();
    let applets = Command::new(&busybox).arg("--list").output().unwrap();
    let applets = String::from_utf8_lossy(&applets.stdout).into_owned();
    let every_applet_linked = applets
        .lines()
        .filter(|applet| *applet != "busybox")
        .all(|applet| {
            fs::read_link(image.rootfs.join("bin").join(applet))
                .is_ok_and(|target| target == Path::new("busybox"))
        });
    let busybox_libraries = shared_libraries(&busybox).unwrap();
    let bin = image.rootfs.join("bin");
    let others: Vec<PathBuf> = fs::read_dir(&bin)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap() != "busybox")
        .collect();
    let mut hidden = busybox_libraries.clone();
    hidden.extend(
        others
            .iter()
            .map(|path| Path::new("/").join(path.strip_prefix(&image.rootfs).unwrap())),
    );
    writeln!(
        report,
        "{}: entrypoint {:?}, cmd {:?}, env {:?}\n{}\
         every applet of `busybox --list` is a symlink bin/APPLET -> busybox: {}\n\
         bin/sh, bin/ls and bin/wget among them: {}\n\
         every library ldd lists for busybox is at its path: {}\n",
        image.name,
        image.config.entrypoint,
        image.config.cmd,
        image.config.env,
        tree_without(&image.rootfs, &hidden),
        yes(every_applet_linked),
        yes(["sh", "ls", "wget"]
            .iter()
            .all(|applet| bin.join(applet).is_symlink())),
        yes(busybox_libraries.iter().all(|library| image
            .rootfs
            .join(library.strip_prefix("/").unwrap())
            .is_file())),
    )
    .unwrap();

    let again = store
        .install_builtin_from(&program, Some(&busybox))
        .unwrap();
    writeln!(
        report,
        "second install, nothing changed:\n{}",
        render(&again)
    )
    .unwrap();
    let file = fs::File::options().write(true).open(&program).unwrap();
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
        .unwrap();
    drop(file);
    let rebuilt = store
        .install_builtin_from(&program, Some(&busybox))
        .unwrap();
    writeln!(report, "after the program changed:\n{}", render(&rebuilt)).unwrap();
    writeln!(report, "the store:\n{}", tree_depth(store.dir(), 0)).unwrap();
    // Sizes that change with every build of the program or busybox.
    let report = report
        .replace(
            &format!("({} bytes)", fs::metadata(&program).unwrap().len()),
            "([size of the program])",
        )
        .replace(
            &format!("({} bytes)", fs::metadata(&busybox).unwrap().len()),
            "([size of busybox])",
        );
    with_settings!({
        description => "install_builtin: pause and echo hold the program and its shared libraries, busybox the host's busybox and a symlink per applet; a second call changes nothing, a changed program is installed again",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn built_in_images_without_busybox_or_with_a_bad_program() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let mut report = String::new();
    let report_of = |result: Result<BuiltinReport, ImageError>| match result {
        Ok(report) => render(&report).trim_end().to_string(),
        Err(error) => format!("  error: {error}"),
    };
    let program = Path::new(PROGRAM);
    writeln!(
        report,
        "no busybox on the host:\n{}",
        report_of(store.install_builtin_from(program, None))
    )
    .unwrap();
    for (name, _) in store
        .install_builtin_from(program, None)
        .unwrap()
        .unavailable
    {
        writeln!(report, "  get({name:?}): {}", store.get(&name).unwrap_err()).unwrap();
    }
    let missing = tmp.path().join("no-busybox-here");
    writeln!(
        report,
        "a busybox path that does not exist:\n{}",
        report_of(store.install_builtin_from(program, Some(&missing)))
    )
    .unwrap();
    let script = tmp.path().join("script");
    fs::write(&script, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    for (what, program) in [
        ("a program that does not exist", tmp.path().join("missing")),
        ("a script instead of a binary", script),
        ("a directory", tmp.path().to_path_buf()),
    ] {
        writeln!(
            report,
            "{what}:\n{}",
            report_of(store.install_builtin_from(&program, None))
        )
        .unwrap();
    }
    let names: Vec<String> = store
        .list()
        .unwrap()
        .into_iter()
        .map(|image| image.name)
        .collect();
    writeln!(report, "images in the store: {names:?}").unwrap();
    with_settings!({
        description => "install_builtin where busybox is missing (a note with the fix, the other images installed) and with programs that cannot serve (errors naming the path)",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&report, tmp.path()));
    });
}

#[test]
fn built_in_images_run_with_nothing_but_their_own_files() {
    if !testkit::is_root() {
        return testkit::skip("chroot needs root");
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&tmp.path().join("images")).unwrap();
    let report = store.install_builtin(Path::new(PROGRAM)).unwrap();
    assert!(
        report.unavailable.is_empty(),
        "busybox is missing: apt-get install busybox-static"
    );
    let echo = store.get(ECHO_IMAGE).unwrap();
    let busybox = store.get(BUSYBOX_IMAGE).unwrap();
    let mut text = String::new();
    for (image, command) in [
        (
            &echo,
            vec!["/k8s-mini", ECHO_ARG, "get", "http://127.0.0.1:1/"],
        ),
        (
            &busybox,
            vec![
                "/bin/sh",
                "-c",
                "echo $((6 * 7)); ls /; cat /etc/passwd | cut -d: -f1",
            ],
        ),
    ] {
        let output = in_chroot(&image.rootfs, &command);
        writeln!(
            text,
            "{} $ {}\n{}",
            image.name,
            command.join(" "),
            indent(&output)
        )
        .unwrap();
    }
    with_settings!({
        description => "the echo image's program (its client, to a closed port) and busybox's shell, each run in a chroot of its image with an empty environment: everything they need is in the image",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
}

// ---- helpers ----

/// A report of install_builtin, one line for each kind of outcome.
fn render(report: &BuiltinReport) -> String {
    let list = |names: &[String]| {
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join(", ")
        }
    };
    let mut text = format!(
        "  installed: {}\n  unchanged: {}\n",
        list(&report.installed),
        list(&report.unchanged)
    );
    for (name, why) in &report.unavailable {
        writeln!(text, "  unavailable: {name}: {why}").unwrap();
    }
    text
}

/// Runs `command` in a chroot of `rootfs`, with an empty environment:
/// its output and status.
fn in_chroot(rootfs: &Path, command: &[&str]) -> String {
    let root = rootfs.to_path_buf();
    let mut child = Command::new(command[0]);
    child.args(&command[1..]).env_clear().stdin(Stdio::null());
    // SAFETY: chroot and chdir are async-signal-safe system calls.
    unsafe {
        child.pre_exec(move || {
            nix::unistd::chroot(&root)?;
            nix::unistd::chdir("/")?;
            Ok(())
        });
    }
    let output = child.output().unwrap();
    format!(
        "stdout:\n{}stderr:\n{}status: {}\n",
        indent(&String::from_utf8_lossy(&output.stdout)),
        indent(&String::from_utf8_lossy(&output.stderr)),
        output.status
    )
}

/// The sample tree of the directory import, and an `outside` directory
/// beside it that a symlink in it points to.
fn sample_tree(source: &Path, tmp: &Path) {
    let outside = tmp.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret"), "not for the image\n").unwrap();
    for dir in ["bin", "etc", "usr/lib", "readonly", "empty"] {
        fs::create_dir_all(source.join(dir)).unwrap();
    }
    let file = |path: &str, mode: u32, content: &str| {
        let path = source.join(path);
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    };
    file("bin/hello", 0o755, "#!/bin/sh\necho hello\n");
    file("bin/setuid-tool", 0o4755, "");
    file("etc/motd", 0o644, "welcome\n");
    file("usr/lib/libdemo.so", 0o644, "not really a library\n");
    file("readonly/inside", 0o444, "x");
    symlink("/etc/passwd", source.join("etc/passwd-link")).unwrap();
    symlink("usr/lib", source.join("lib")).unwrap();
    symlink("../outside", source.join("escape")).unwrap();
    nix::unistd::mkfifo(
        &source.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    fs::set_permissions(source.join("readonly"), fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(source.join("empty"), fs::Permissions::from_mode(0o700)).unwrap();
}

/// Every entry under `root`, sorted, one a line: mode, path, and the size
/// of a file or the target of a symlink.
fn tree(root: &Path) -> String {
    tree_filtered(root, usize::MAX, &|_| true)
}

fn tree_depth(root: &Path, depth: usize) -> String {
    tree_filtered(root, depth, &|_| true)
}

/// [`tree`] without `hidden` (absolute paths inside the image) and the
/// directories that hold only those.
fn tree_without(root: &Path, hidden: &[PathBuf]) -> String {
    let hidden: Vec<PathBuf> = hidden
        .iter()
        .map(|path| root.join(path.strip_prefix("/").unwrap_or(path)))
        .collect();
    let keep = |path: &Path| {
        let is_hidden = hidden.iter().any(|h| h == path);
        let only_hidden_inside = path.is_dir()
            && !path.is_symlink()
            && hidden.iter().any(|h| h.starts_with(path))
            && all_hidden(path, &hidden);
        !is_hidden && !only_hidden_inside
    };
    tree_filtered(root, usize::MAX, &keep)
}

fn all_hidden(dir: &Path, hidden: &[PathBuf]) -> bool {
    fs::read_dir(dir).unwrap().all(|entry| {
        let path = entry.unwrap().path();
        hidden.contains(&path) || (path.is_dir() && !path.is_symlink() && all_hidden(&path, hidden))
    })
}

fn tree_filtered(root: &Path, depth: usize, keep: &dyn Fn(&Path) -> bool) -> String {
    let mut lines = Vec::new();
    walk(root, root, depth, keep, &mut lines);
    lines.sort();
    lines
        .iter()
        .map(|(_, line)| format!("  {line}\n"))
        .collect()
}

fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    keep: &dyn Fn(&Path) -> bool,
    lines: &mut Vec<(String, String)>,
) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !keep(&path) {
            continue;
        }
        let meta = fs::symlink_metadata(&path).unwrap();
        let relative = path.strip_prefix(root).unwrap().display().to_string();
        let mode = mode_string(&meta);
        let line = if meta.is_dir() {
            format!("{mode} {relative}/")
        } else if meta.file_type().is_symlink() {
            format!(
                "{mode} {relative} -> {}",
                fs::read_link(&path).unwrap().display()
            )
        } else if meta.is_file() {
            format!("{mode} {relative} ({} bytes)", meta.len())
        } else {
            format!("{mode} {relative} (special file)")
        };
        lines.push((relative, line));
        if meta.is_dir() && depth > 0 {
            walk(root, &path, depth - 1, keep, lines);
        }
    }
}

fn mode_string(meta: &fs::Metadata) -> String {
    let kind = meta.file_type();
    let mode = meta.mode();
    let mut text = String::from(if kind.is_dir() {
        "d"
    } else if kind.is_symlink() {
        "l"
    } else if kind.is_file() {
        "-"
    } else {
        "?"
    });
    for (shift, special, special_char) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => special_char,
            (false, true) => special_char.to_ascii_uppercase(),
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    text
}

/// The image's image.json, with its time replaced.
fn record(store: &ImageStore, name: &str) -> String {
    let path = store.image_dir(name).unwrap().join("image.json");
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let time = json["imported_at"].as_str().unwrap();
    assert!(
        is_rfc3339_seconds(time),
        "imported_at {time:?} should be RFC 3339 UTC"
    );
    serde_json::to_string_pretty(&json)
        .unwrap()
        .replace(time, "[time]")
}

/// `2024-05-01T12:00:00Z`.
fn is_rfc3339_seconds(time: &str) -> bool {
    let pattern = b"dddd-dd-ddTdd:dd:ddZ";
    time.len() == pattern.len()
        && time
            .bytes()
            .zip(pattern)
            .all(|(byte, &expected)| match expected {
                b'd' => byte.is_ascii_digit(),
                other => byte == other,
            })
}

fn yes(value: bool) -> &'static str {
    if value { "yes" } else { "NO" }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gzip = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip should be installed");
    gzip.stdin.take().unwrap().write_all(data).unwrap();
    let output = gzip.wait_with_output().unwrap();
    assert!(output.status.success());
    output.stdout
}

/// A tar archive written by hand (ustar format), so that a test can put
/// in it what well-behaved tools refuse to: `..`, absolute names, writes
/// through symlinks.
struct Tar {
    bytes: Vec<u8>,
}

impl Tar {
    fn new() -> Tar {
        Tar { bytes: Vec::new() }
    }

    fn dir(self, name: &str, mode: u32) -> Tar {
        self.entry(name, mode, b'5', "", b"")
    }

    fn file(self, name: &str, mode: u32, content: &[u8]) -> Tar {
        self.entry(name, mode, b'0', "", content)
    }

    fn symlink(self, name: &str, target: &str) -> Tar {
        self.entry(name, 0o777, b'2', target, b"")
    }

    fn hard_link(self, name: &str, target: &str) -> Tar {
        self.entry(name, 0o644, b'1', target, b"")
    }

    fn entry(mut self, name: &str, mode: u32, kind: u8, link: &str, content: &[u8]) -> Tar {
        assert!(
            name.len() < 100 && link.len() < 100,
            "names this long need a longer format"
        );
        let mut header = [0u8; 512];
        let mut put = |at: usize, value: &[u8]| header[at..at + value.len()].copy_from_slice(value);
        put(0, name.as_bytes());
        put(100, format!("{mode:07o}\0").as_bytes());
        put(108, b"0000000\0");
        put(116, b"0000000\0");
        put(124, format!("{:011o}\0", content.len()).as_bytes());
        put(136, format!("{:011o}\0", 1_700_000_000).as_bytes());
        put(148, b"        ");
        put(156, &[kind]);
        put(157, link.as_bytes());
        put(257, b"ustar\0");
        put(263, b"00");
        let sum: u32 = header.iter().map(|&byte| u32::from(byte)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.bytes.extend_from_slice(&header);
        self.bytes.extend_from_slice(content);
        self.bytes.resize(self.bytes.len().next_multiple_of(512), 0);
        self
    }

    fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0; 1024]);
        self.bytes
    }
}

//! Holes: `effective_command` (src/command.rs), `secure_join`
//! (src/secure_join.rs).

use std::fmt::Write;
use std::os::unix::fs::symlink;
use std::path::Path;

use chapter_03::filesystem::{effective_command, secure_join};
use insta::{assert_snapshot, with_settings};

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

#[test]
fn the_command_line_combines_image_and_container_as_kubernetes_does() {
    let entrypoint = words("/docker-entrypoint.sh");
    let cmd = words("nginx -g daemon-off");
    let mut table = String::new();
    for (command, args) in [
        ("", ""),
        ("", "nginx -T"),
        ("/bin/sh", ""),
        ("/bin/sh", "-c date"),
    ] {
        let line = effective_command(&entrypoint, &cmd, &words(command), &words(args));
        writeln!(table, "command [{command}] args [{args}] -> {line:?}").unwrap();
    }
    let none = effective_command(&[], &[], &[], &[]);
    writeln!(
        table,
        "an image without entrypoint or cmd, no command -> {none:?}"
    )
    .unwrap();
    let cmd_only = effective_command(&[], &words("sh"), &[], &words("-c true"));
    writeln!(table, "image cmd [sh] only, args [-c true] -> {cmd_only:?}").unwrap();
    with_settings!({
        description => "effective_command with the image's ENTRYPOINT [/docker-entrypoint.sh] and CMD [nginx -g daemon-off]",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn paths_inside_the_root_never_resolve_outside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib")).unwrap();
    symlink("/etc", root.join("data")).unwrap();
    symlink("../../..", root.join("usr/lib/up")).unwrap();
    symlink("lib", root.join("usr/lib64")).unwrap();
    symlink("loop2", root.join("loop1")).unwrap();
    symlink("loop1", root.join("loop2")).unwrap();
    let mut table = String::new();
    for path in [
        "/data",
        "/data/hosts",
        "/usr/lib/up/etc",
        "/../../etc/passwd",
        "/usr/lib64/x",
        "/new/dir",
        "/loop1",
    ] {
        let answer = match secure_join(&root, Path::new(path)) {
            Ok(resolved) => resolved
                .display()
                .to_string()
                .replace(&root.display().to_string(), "[root]"),
            Err(error) => format!("error: {error}"),
        };
        writeln!(table, "{path:<20} -> {answer}").unwrap();
    }
    with_settings!({
        description => "secure_join([root], path) with [root]/data -> /etc, [root]/usr/lib/up -> ../../.., [root]/usr/lib64 -> lib, and loop1 <-> loop2",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

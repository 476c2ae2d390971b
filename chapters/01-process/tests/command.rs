//! Hole: `resolve_command` (src/command.rs).

use std::fmt::Write;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use chapter_01::process::resolve_command;
use chapter_01::redact;
use insta::{assert_snapshot, with_settings};

fn write_file(path: &Path, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, "#!/bin/sh\n").unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn commands_resolve_like_execvp_with_errors_that_name_them() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_file(&root.join("a/tool"), 0o644); // found first, but not executable
    write_file(&root.join("b/tool"), 0o755);
    write_file(&root.join("a/notes"), 0o600); // only a non-executable match
    write_file(&root.join("work/run.sh"), 0o755);
    fs::create_dir_all(root.join("b/folder")).unwrap();

    let path = format!("{0}/a::{0}/b", root.display());
    let work = root.join("work");
    let cases = [
        "tool",
        "notes",
        "nothing-here",
        "folder",
        "./run.sh",
        "./missing.sh",
        "",
    ];
    let mut table = String::new();
    for command in cases {
        let answer = match resolve_command(command, &path, &work) {
            Ok(program) => format!("Ok: {}", program.display()),
            Err(error) => format!("Err: {error}"),
        };
        writeln!(table, "{command:?}\n    {answer}").unwrap();
    }
    let absolute = root.join("b/tool").display().to_string();
    let answer = resolve_command(&absolute, "", &work).map(|p| p.display().to_string());
    writeln!(table, "{absolute:?} with an empty PATH\n    {answer:?}").unwrap();

    with_settings!({
        description => "resolve_command(command, PATH = \"[tmp]/a::[tmp]/b\", working dir [tmp]/work); [tmp]/a/tool has mode 644, [tmp]/b/tool 755",
        omit_expression => true,
    }, {
        assert_snapshot!(redact(&table, root));
    });
}

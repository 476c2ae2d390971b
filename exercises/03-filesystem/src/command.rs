// Generated from solutions/03-filesystem/src/command.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
// ANCHOR: effective_command
/// The command line a container runs, by Kubernetes' rules for combining
/// the image's config with the container's spec:
///
/// | container `command` | container `args` | runs |
/// |---|---|---|
/// | none | none | image entrypoint + image cmd |
/// | none | given | image entrypoint + `args` |
/// | given | none | `command` (the image's cmd is dropped too) |
/// | given | given | `command` + `args` |
///
/// `None` when that leaves nothing to run.
pub fn effective_command(
    entrypoint: &[String],
    cmd: &[String],
    command: &[String],
    args: &[String],
) -> Option<Vec<String>> {
    todo!(
        "exercise 1: the command line the container runs, by the table above, or None when nothing is left to run"
    )
}
// ANCHOR_END: effective_command

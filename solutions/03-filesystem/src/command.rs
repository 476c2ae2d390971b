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
    // exercise: Follow the table: a container command replaces the entrypoint AND the image's cmd; container args replace only the cmd. An empty result is None.
    let line: Vec<String> = if command.is_empty() {
        let rest = if args.is_empty() { cmd } else { args };
        entrypoint.iter().chain(rest).cloned().collect()
    } else {
        command.iter().chain(args).cloned().collect()
    };
    (!line.is_empty()).then_some(line)
}
// ANCHOR_END: effective_command

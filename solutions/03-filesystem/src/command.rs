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
    // exercise 1: the command line the container runs, by the table above, or None when nothing is left to run
    // hint: The table has four rows; read it as two questions: is a container `command` given? Is a container `args` given?
    // hint: A container command replaces the image's entrypoint and its cmd together; container args replace only the image's cmd. Chain the two parts that apply and clone them into one Vec.
    // hint: If `command` is empty: `entrypoint` followed by (`args` if not empty, else `cmd`); otherwise `command` followed by `args`. Collect with `.iter().chain(...).cloned().collect()`, then `(!line.is_empty()).then_some(line)`.
    let line: Vec<String> = if command.is_empty() {
        let rest = if args.is_empty() { cmd } else { args };
        entrypoint.iter().chain(rest).cloned().collect()
    } else {
        command.iter().chain(args).cloned().collect()
    };
    (!line.is_empty()).then_some(line)
}
// ANCHOR_END: effective_command

//! Helpers shared by the end-to-end scenarios.

/// `k8s-mini run`'s lines without their clock times, and with process ids
/// replaced: both change every run.
pub fn stable(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .map(|line| {
            let line = line.split_once(' ').map_or(line, |(_, rest)| rest);
            match line.find("pid ") {
                Some(at) => {
                    let digits = line[at + 4..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .count();
                    format!("{}pid [pid]{}", &line[..at], &line[at + 4 + digits..])
                }
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`stable`] without the opening "supervising ..." line.
#[allow(dead_code)]
pub fn stable_events(output: &[u8]) -> String {
    stable(output)
        .lines()
        .filter(|line| !line.contains("supervising"))
        .collect::<Vec<_>>()
        .join("\n")
}

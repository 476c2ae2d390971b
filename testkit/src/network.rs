use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A /24 of `<prefix>.0.0/16` (`"10.251"`, say), as `a.b.c.0/24`, that no
/// interface of the host uses, different for every call in this process
/// and, most likely, from other processes' (it starts from the process id):
/// two bridges with one subnet in one namespace would make routing
/// ambiguous.
pub fn free_subnet(prefix: &str) -> String {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let output = Command::new("ip")
        .args(["-4", "-o", "addr", "show"])
        .output()
        .expect("ip (iproute2) lists the host's addresses");
    let used = String::from_utf8_lossy(&output.stdout).into_owned();
    let start = std::process::id() + 7 * CALLS.fetch_add(1, Ordering::Relaxed);
    for offset in 0..256 {
        let candidate = format!("{prefix}.{}.", (start + offset) % 256);
        if !used.contains(&format!("inet {candidate}")) {
            return format!("{candidate}0/24");
        }
    }
    panic!("every /24 of {prefix}.0.0/16 is in use on this machine");
}

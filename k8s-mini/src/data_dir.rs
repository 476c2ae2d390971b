use std::path::PathBuf;

/// Where k8s-mini keeps its images and containers' state when no
/// `--data-dir` is given: `/var/lib/k8s-mini` for root (as the kubelet uses
/// `/var/lib/kubelet`), else `$XDG_DATA_HOME/k8s-mini` or
/// `~/.local/share/k8s-mini`.
pub fn default_data_dir() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/var/lib/k8s-mini");
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(data).join("k8s-mini");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/k8s-mini")
}

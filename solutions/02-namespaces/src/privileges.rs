use std::fmt;

/// What this process may do with namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privileges {
    /// Running as root: every namespace directly.
    Root,
    /// Not root, but unprivileged user namespaces are allowed: a user
    /// namespace first, in which we are root.
    Rootless,
}

/// Why neither works, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedReason(pub String);

impl fmt::Display for UnsupportedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnsupportedReason {}

impl Privileges {
    /// Finds out which way containers can be made here.
    pub fn detect() -> Result<Privileges, UnsupportedReason> {
        if !cfg!(target_os = "linux") {
            return Err(UnsupportedReason(
                "namespaces are a Linux feature: run the workshop in a Linux machine or VM".into(),
            ));
        }
        if nix::unistd::geteuid().is_root() {
            return Ok(Privileges::Root);
        }
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| text.trim().to_string())
        };
        if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
            return Err(UnsupportedReason(
                "containers need root or unprivileged user namespaces, and this kernel forbids \
                 the latter (kernel.unprivileged_userns_clone = 0): run as root, or enable them \
                 with `sudo sysctl -w kernel.unprivileged_userns_clone=1`"
                    .into(),
            ));
        }
        if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
            return Err(UnsupportedReason(
                "containers need root or unprivileged user namespaces, and this machine allows \
                 none (user.max_user_namespaces = 0): run as root, or raise it with \
                 `sudo sysctl -w user.max_user_namespaces=10000`"
                    .into(),
            ));
        }
        Ok(Privileges::Rootless)
    }

    pub fn is_rootless(self) -> bool {
        self == Privileges::Rootless
    }
}

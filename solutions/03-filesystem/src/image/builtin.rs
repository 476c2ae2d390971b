use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::libs::shared_libraries;
use super::record::{Record, Stamp};
use super::{ImageConfig, ImageError, ImageName, ImageStore};
use crate::programs::{ECHO_ARG, PAUSE_ARG};

/// The pod's infra process (chapter 05): holds the pod's namespaces.
pub const PAUSE_IMAGE: &str = "k8s-mini/pause";
/// An HTTP server for the examples: answers with who it is.
pub const ECHO_IMAGE: &str = "k8s-mini/echo";
/// A shell and the usual tools, from the host's busybox.
pub const BUSYBOX_IMAGE: &str = "busybox";

/// Where the program sits in the pause and echo images.
pub const PROGRAM_IN_IMAGE: &str = "/k8s-mini";

/// Changes whenever the contents of the built-in images change, so that
/// images made by an older k8s-mini are made again.
const RECIPE: u32 = 1;

/// The PATH of the busybox image, the one Docker gives images.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nnobody:x:65534:\n";

/// What [`ImageStore::install_builtin`] did, image by image (full names).
#[derive(Debug, Default)]
pub struct BuiltinReport {
    /// Made now: missing, or made from another version of their program.
    pub installed: Vec<String>,
    /// Already there and up to date.
    pub unchanged: Vec<String>,
    /// Cannot be made on this host, and why (busybox not installed).
    pub unavailable: Vec<(String, ImageError)>,
}

impl BuiltinReport {
    /// The built-in images that can be used, installed now or before.
    pub fn ready(&self) -> Vec<String> {
        let mut ready: Vec<String> = self
            .installed
            .iter()
            .chain(&self.unchanged)
            .cloned()
            .collect();
        ready.sort();
        ready
    }
}

impl ImageStore {
    // ANCHOR: install_builtin
    /// Installs the built-in images, which need no download: pause and
    /// echo run `program` (k8s-mini itself, or any program that calls
    /// [`run_program_if_requested`](crate::programs::run_program_if_requested)
    /// first), busybox is the host's ([`find_busybox`]).
    ///
    /// Cheap when nothing changed: an image is made again only when the
    /// file it comes from has another size or modification time. A host
    /// without busybox is not an error: the report says what to install.
    pub fn install_builtin(&self, program: &Path) -> Result<BuiltinReport, ImageError> {
        self.install_builtin_from(program, find_busybox().as_deref())
    }
    // ANCHOR_END: install_builtin

    /// [`ImageStore::install_builtin`] with the busybox to use, or none.
    pub fn install_builtin_from(
        &self,
        program: &Path,
        busybox: Option<&Path>,
    ) -> Result<BuiltinReport, ImageError> {
        let program = check_program(program)?;
        let stamp = stamp(&program)?;
        let mut report = BuiltinReport::default();
        for (name, arg) in [(PAUSE_IMAGE, PAUSE_ARG), (ECHO_IMAGE, ECHO_ARG)] {
            let config = ImageConfig {
                entrypoint: vec![PROGRAM_IN_IMAGE.to_string(), arg.to_string()],
                ..ImageConfig::default()
            };
            let installed = self.install_if_changed(name, config, &stamp, |rootfs| {
                base_rootfs(rootfs, &[])?;
                add_program(rootfs, &program, Path::new(PROGRAM_IN_IMAGE))
            })?;
            report.add(name, installed);
        }
        let busybox = busybox.ok_or(ImageError::NoBusybox);
        match busybox.and_then(|busybox| self.install_busybox(busybox)) {
            Ok(installed) => report.add(BUSYBOX_IMAGE, installed),
            Err(error) => report.unavailable.push((full_name(BUSYBOX_IMAGE), error)),
        }
        Ok(report)
    }

    fn install_busybox(&self, busybox: &Path) -> Result<bool, ImageError> {
        let busybox = check_program(busybox)?;
        let stamp = stamp(&busybox)?;
        let config = ImageConfig {
            cmd: vec!["sh".to_string()],
            env: vec![("PATH".to_string(), PATH.to_string())],
            ..ImageConfig::default()
        };
        self.install_if_changed(BUSYBOX_IMAGE, config, &stamp, |rootfs| {
            base_rootfs(rootfs, &["bin", "root"])?;
            add_program(rootfs, &busybox, Path::new("/bin/busybox"))?;
            for applet in applets(&busybox)? {
                let link = rootfs.join("bin").join(&applet);
                symlink("busybox", &link).map_err(ImageError::io("create", link))?;
            }
            Ok(())
        })
    }

    /// Makes image `name` with `fill`, unless it was already made from the
    /// file `stamp` describes. True when it was made.
    fn install_if_changed(
        &self,
        name: &str,
        config: ImageConfig,
        stamp: &Stamp,
        fill: impl FnOnce(&Path) -> Result<(), ImageError>,
    ) -> Result<bool, ImageError> {
        // Held throughout, so that two processes installing at once do the
        // work once, and never replace an image under each other's feet.
        let _lock = self.lock()?;
        let dir = self.image_dir(name)?;
        let current = Record::read(name, &dir).ok();
        if current.is_some_and(|record| record.origin.as_ref() == Some(stamp))
            && dir.join("rootfs").is_dir()
        {
            return Ok(false);
        }
        self.stage(name, config, Some(stamp.clone()), fill)?
            .commit()?;
        Ok(true)
    }
}

impl BuiltinReport {
    fn add(&mut self, name: &str, installed: bool) {
        let name = full_name(name);
        if installed {
            self.installed.push(name);
        } else {
            self.unchanged.push(name);
        }
    }
}

fn full_name(name: &str) -> String {
    ImageName::parse(name).map_or_else(|_| name.to_string(), |name| name.to_string())
}

/// The program's real path, once it is known to be an ELF executable.
fn check_program(program: &Path) -> Result<PathBuf, ImageError> {
    let failed = |reason: &str| ImageError::Program {
        path: program.to_path_buf(),
        reason: reason.to_string(),
    };
    let real = fs::canonicalize(program).map_err(|_| failed("it does not exist"))?;
    let meta = fs::metadata(&real).map_err(ImageError::io("read", &real))?;
    if !meta.is_file() {
        return Err(failed("it is not a regular file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(failed("it is not executable"));
    }
    let mut magic = [0; 4];
    let read = fs::File::open(&real).and_then(|mut file| file.read_exact(&mut magic));
    if read.is_err() || magic != *b"\x7fELF" {
        return Err(failed("it is not an ELF executable"));
    }
    Ok(real)
}

fn stamp(file: &Path) -> Result<Stamp, ImageError> {
    let meta = fs::metadata(file).map_err(ImageError::io("read", file))?;
    Ok(Stamp {
        source: file.to_path_buf(),
        size: meta.len(),
        modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        recipe: RECIPE,
    })
}

/// The directories every built-in image has (plus `extra`), and the
/// `/etc/passwd` and `/etc/group` that programs looking up a user expect.
fn base_rootfs(rootfs: &Path, extra: &[&str]) -> Result<(), ImageError> {
    for dir in ["proc", "dev", "sys", "tmp", "etc"].iter().chain(extra) {
        let path = rootfs.join(dir);
        fs::create_dir(&path).map_err(ImageError::io("create", &path))?;
    }
    let mut modes = vec![("tmp", 0o1777)];
    if extra.contains(&"root") {
        modes.push(("root", 0o700));
    }
    for (dir, mode) in modes {
        let path = rootfs.join(dir);
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .map_err(ImageError::io("set the mode of", path))?;
    }
    for (file, content) in [("etc/passwd", PASSWD), ("etc/group", GROUP)] {
        let path = rootfs.join(file);
        fs::write(&path, content).map_err(ImageError::io("write", path))?;
    }
    Ok(())
}

/// Puts `program` at `inside` in the image, with the shared libraries it
/// needs at the paths the host has them.
fn add_program(rootfs: &Path, program: &Path, inside: &Path) -> Result<(), ImageError> {
    add_file(rootfs, program, inside)?;
    for library in shared_libraries(program)? {
        let real = fs::canonicalize(&library).map_err(ImageError::io("read", &library))?;
        add_file(rootfs, &real, &library)?;
    }
    Ok(())
}

/// A hard link when the image store and `file` share a filesystem (no
/// space used, instant), a copy otherwise. Safe to share: the image is
/// never written to, containers write to their own layer.
fn add_file(rootfs: &Path, file: &Path, inside: &Path) -> Result<(), ImageError> {
    let target = rootfs.join(inside.strip_prefix("/").unwrap_or(inside));
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(ImageError::io("create", parent))?;
    }
    if fs::hard_link(file, &target).is_err() {
        fs::copy(file, &target).map_err(ImageError::io("copy", file))?;
    }
    Ok(())
}

/// The host's busybox: on PATH, else where Debian puts it.
pub fn find_busybox() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("busybox"))
        .find(|candidate| {
            fs::metadata(candidate).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
        })
        .and_then(|found| fs::canonicalize(found).ok())
}

/// The commands busybox provides, from `busybox --list`.
fn applets(busybox: &Path) -> Result<Vec<String>, ImageError> {
    let output = Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(ImageError::io("run", busybox))?;
    if !output.status.success() {
        return Err(ImageError::Program {
            path: busybox.to_path_buf(),
            reason: format!("`busybox --list` failed ({})", output.status),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|applet| !applet.is_empty() && !applet.contains('/') && *applet != "busybox")
        .filter(|applet| *applet != "." && *applet != "..")
        .map(str::to_string)
        .collect())
}

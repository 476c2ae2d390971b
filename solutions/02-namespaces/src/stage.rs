//! The init program: everything between "start" and "exec the application",
//! run in a fresh single-threaded process.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::resource::{Resource, getrlimit, setrlimit};

use nix::sys::signal::SigSet;
use nix::unistd::{ForkResult, fork};

use process::ExitStatus;

use crate::init::wait_and_forward;
use crate::shim::{self, ShimFiles, ShimPipes};
use crate::signals::{exit_like, restore, take_over, waited_signals};
use crate::{ContainerConfig, Extension, InitError, Namespace, clone_flags, setup, write_id_maps};

/// Runs the init program for `config`; never returns.
pub(crate) fn main(config: &ContainerConfig, extension: &dyn Extension) -> ! {
    match stage_zero(config, extension) {
        Ok(status) => {
            // exit_like may kill this process with the application's
            // signal: a SIGSEGV must not dump the core of the runtime's own
            // binary (a core-dump helper ignores RLIMIT_CORE; this it obeys).
            // SAFETY: prctl with these arguments only changes this process.
            unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
            exit_like(status)
        }
        Err(error) => fail(&error),
    }
}

/// What the init processes change about themselves and the application
/// must get back before exec.
#[derive(Debug, Clone, Copy)]
struct Inherited {
    /// RLIMIT_CORE as the supervisor gave it (soft, hard).
    core_limit: Option<(libc::rlim_t, libc::rlim_t)>,
    /// Whether the OOM score adjustment was lowered to protect the init
    /// processes (only a privileged runtime can).
    oom_protected: bool,
}

fn fail(error: &InitError) -> ! {
    let _ = writeln!(std::io::stderr(), "k8s-mini init: {error}");
    std::process::exit(error.exit_code())
}

// ANCHOR: stage_zero
/// The first process: joins cgroups, creates the namespaces, forks PID 1,
/// relays signals to it and returns the application's status.
fn stage_zero(
    config: &ContainerConfig,
    extension: &dyn Extension,
) -> Result<ExitStatus, InitError> {
    let isolation = &config.isolation;
    // A shim's files are host paths: open them before anything changes
    // what the paths name.
    let mut shim_files = match &config.shim {
        Some(shim) => Some(ShimFiles::open(shim).map_err(|error| {
            setup_failed(
                "open the shim's files",
                Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)),
            )
        })?),
        None => None,
    };
    // The init processes run the runtime's own binary: a crash of theirs
    // must not leave its memory (the configuration, the host's paths) in a
    // core file. Only the soft limit goes down, so that the application
    // can have it back.
    let core_limit = getrlimit(Resource::RLIMIT_CORE).ok();
    if let Some((_, hard)) = core_limit {
        setrlimit(Resource::RLIMIT_CORE, 0, hard)
            .map_err(|source| setup_failed("limit core dumps", source))?;
    }
    // The init processes live in the container's cgroup with the
    // application; when it runs out of memory, the kernel must kill the
    // application, not them. Lowering the score needs privilege, so a
    // rootless container does without.
    let inherited = Inherited {
        core_limit,
        oom_protected: std::fs::write("/proc/self/oom_score_adj", OOM_PROTECTED).is_ok(),
    };
    for procs in &isolation.cgroup_procs {
        // "0" means "the process writing": everything we start inherits it.
        std::fs::write(procs, "0").map_err(|source| InitError::JoinCgroup {
            path: procs.clone(),
            source,
        })?;
    }
    enter(&isolation.join)?;
    if let Some((uid, gid)) = isolation.user {
        unshare(&[Namespace::User])?;
        write_id_maps(std::path::Path::new("/proc/self"), uid, gid)?;
    }
    unshare(&isolation.namespaces)?;

    // PID 1 reports the application's status through this pipe: its own
    // exit status cannot carry "killed by a signal", because the init of a
    // PID namespace cannot send itself a fatal signal.
    let (status_read, status_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|source| setup_failed("create a pipe", source))?;
    // As a shim, this process holds the application's output itself.
    let shim_pipes = match &config.shim {
        Some(_) => Some(ShimPipes::new().map_err(|source| setup_failed("create a pipe", source))?),
        None => None,
    };
    let signals = waited_signals();
    take_over(&signals).map_err(|source| setup_failed("take over signals", source))?;
    // SAFETY: this process is single-threaded (it is the init program, fresh
    // from exec), so the child may do anything after fork.
    match unsafe { fork() }.map_err(|source| setup_failed("fork PID 1", source))? {
        ForkResult::Child => {
            drop(status_read);
            if let Some(pipes) = shim_pipes
                && let Err(source) = pipes.install_in_child()
            {
                fail(&setup_failed("take the shim's pipes as output", source));
            }
            pid_one(config, extension, &signals, status_write, inherited)
        }
        ForkResult::Parent { child } => {
            drop(status_write);
            let own = match (shim_pipes, &mut shim_files) {
                (Some(pipes), Some(files)) => {
                    shim::detach();
                    shim::run(child, &signals, pipes.into_readers(), files)
                }
                _ => wait_and_forward(child, &signals),
            };
            let status = read_status(status_read).unwrap_or(own);
            if let Some(files) = &shim_files {
                // Nobody to tell if this fails: the agent then finds no
                // file and reports the status as unknown.
                let _ = files.write_exit(status);
            }
            Ok(status)
        }
    }
}
// ANCHOR_END: stage_zero

/// Enters other processes' namespaces. Every file is opened first: once
/// in another mount namespace, the paths would name other files.
fn enter(join: &[(Namespace, std::path::PathBuf)]) -> Result<(), InitError> {
    let mut opened = Vec::new();
    for (namespace, path) in join {
        let file = std::fs::File::open(path).map_err(|source| InitError::Join {
            what: format!("{namespace:?}"),
            path: path.clone(),
            source: nix::Error::from_raw(source.raw_os_error().unwrap_or(libc::EIO)),
        })?;
        opened.push((namespace, path, file));
    }
    for (namespace, path, file) in opened {
        nix::sched::setns(file, clone_flags(&[*namespace])).map_err(|source| InitError::Join {
            what: format!("{namespace:?}"),
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

fn unshare(namespaces: &[Namespace]) -> Result<(), InitError> {
    nix::sched::unshare(clone_flags(namespaces)).map_err(|source| InitError::Unshare {
        what: format!("{namespaces:?}"),
        source,
    })
}

fn setup_failed(what: &str, source: nix::Error) -> InitError {
    InitError::Setup {
        what: what.to_string(),
        source,
    }
}

// ANCHOR: pid_one
/// PID 1 of the container: prepares the namespaces, starts the application
/// and stays as its init, reaping and forwarding, until it exits.
fn pid_one(
    config: &ContainerConfig,
    extension: &dyn Extension,
    signals: &SigSet,
    status_write: OwnedFd,
    inherited: Inherited,
) -> ! {
    // If the first process dies, so do we, and with us the whole namespace.
    // SAFETY: prctl with these arguments only changes this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // It may have died before the line above, and then no signal comes.
    // getppid() cannot tell (in a new PID namespace the parent is always
    // outside, 0), but the status pipe can: its read end is the first
    // process's alone.
    if !reader_alive(status_write.as_fd()) {
        std::process::exit(125);
    }
    // The container's processes may see this one (it is their PID 1) and
    // run as the same user: make its memory, environment and executable
    // off-limits to them (as runc does), and never dump its core. exec
    // makes the application dumpable again.
    // SAFETY: prctl with these arguments only changes this process.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let _ = nix::sys::prctl::set_name(c"k8s-mini-init");
    if let Err(error) = setup::prepare(config, extension) {
        fail(&error);
    }
    let exec = match setup::resolve(config) {
        Ok(exec) => exec,
        Err(error) => fail(&error),
    };
    // SAFETY: single-threaded, as in stage_zero.
    let app = match unsafe { fork() } {
        Ok(ForkResult::Child) => start_application(config, extension, signals, &exec, inherited),
        Ok(ForkResult::Parent { child }) => child,
        Err(source) => fail(&setup_failed("fork the application", source)),
    };
    let status = wait_and_forward(app, signals);
    write_status(status_write, status);
    // Our own exit code tells the same story, for anyone who cannot read
    // the pipe.
    std::process::exit(status.kubernetes_code())
}
// ANCHOR_END: pid_one

/// The OOM score adjustment of the init processes: never chosen.
const OOM_PROTECTED: &str = "-1000";

fn start_application(
    config: &ContainerConfig,
    extension: &dyn Extension,
    signals: &SigSet,
    exec: &setup::Exec,
    inherited: Inherited,
) -> ! {
    let _ = restore(signals);
    if inherited.oom_protected {
        // Back to an ordinary candidate for the OOM killer (raising is
        // always allowed). An application left at -1000 would be the one
        // process the kernel never kills: better not to start at all.
        if let Err(error) = reset_oom_score(Path::new("/proc/self/oom_score_adj")) {
            fail(&error);
        }
    }
    if let Err(source) = nix::unistd::chdir(&config.working_dir) {
        fail(&InitError::Exec {
            command: config.command.clone(),
            message: format!(
                "cannot enter working directory {}: {source}",
                config.working_dir.display()
            ),
            code: 125,
        });
    }
    if let Err(error) = drop_supplementary_groups() {
        fail(&error);
    }
    if let Some((soft, hard)) = inherited.core_limit
        && let Err(source) = setrlimit(Resource::RLIMIT_CORE, soft, hard)
    {
        fail(&setup_failed("restore the core dump limit", source));
    }
    if let Err(error) = extension.before_exec(config) {
        fail(&error);
    }
    if let Err(source) = close_inherited_descriptors() {
        fail(&setup_failed("close inherited descriptors", source));
    }
    let error = nix::unistd::execve(&exec.program, &exec.argv, &exec.envp).unwrap_err();
    fail(&InitError::Exec {
        command: config.command.clone(),
        message: error.desc().to_string(),
        code: if error == nix::errno::Errno::ENOENT {
            127
        } else {
            126
        },
    })
}

/// Sets the OOM score adjustment in `file` (the process's own
/// `oom_score_adj`) back to 0.
fn reset_oom_score(file: &Path) -> Result<(), InitError> {
    std::fs::write(file, "0").map_err(|error| {
        setup_failed(
            "reset the OOM score adjustment",
            nix::Error::from_raw(error.raw_os_error().unwrap_or(libc::EIO)),
        )
    })
}

/// Gives up the supervisor's supplementary groups: the application runs
/// with its own user and group only, as runc's does (a group can grant
/// access to files).
fn drop_supplementary_groups() -> Result<(), InitError> {
    match nix::unistd::setgroups(&[]) {
        Ok(()) => Ok(()),
        // A rootless container's user namespace had to deny setgroups to
        // map its ids; its groups cannot change, and are not mapped inside.
        Err(Errno::EPERM) if setgroups_denied() => Ok(()),
        Err(source) => Err(setup_failed("drop the supplementary groups", source)),
    }
}

fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|text| text.trim() == "deny")
}

/// Marks every descriptor above stderr close-on-exec, so that the
/// application inherits only 0, 1 and 2: whatever the supervisor (or a
/// library in it) left open without O_CLOEXEC would otherwise reach into
/// the container, a host file or socket included.
fn close_inherited_descriptors() -> nix::Result<()> {
    // SAFETY: close_range only changes flags of this process's descriptors.
    let result = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    match Errno::result(result) {
        Ok(_) => Ok(()),
        // Before Linux 5.9 there is no close_range, before 5.11 no
        // CLOSE_RANGE_CLOEXEC: one descriptor at a time.
        Err(Errno::ENOSYS | Errno::EINVAL) => {
            let entries = std::fs::read_dir("/proc/self/fd")
                .map_err(|error| Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)))?;
            let descriptors: Vec<libc::c_int> = entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .filter(|fd| *fd > 2)
                .collect();
            for fd in descriptors {
                // SAFETY: sets a flag; a descriptor closed meanwhile (the
                // directory's own) gives EBADF, which is fine.
                unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            }
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Whether the read end of the pipe whose write end is `pipe` is still
/// open somewhere: a pipe without readers polls as an error.
fn reader_alive(pipe: BorrowedFd) -> bool {
    let mut poll = libc::pollfd {
        fd: pipe.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    !(ready > 0 && poll.revents & libc::POLLERR != 0)
}

/// The wire format of the status pipe: "code N" or "signal N", as in the
/// shim's exit file.
fn write_status(pipe: OwnedFd, status: ExitStatus) {
    let _ = std::fs::File::from(pipe).write_all(shim::status_text(status).as_bytes());
}

fn read_status(pipe: OwnedFd) -> Option<ExitStatus> {
    let mut text = String::new();
    std::fs::File::from(pipe).read_to_string(&mut text).ok()?;
    shim::parse_status(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_tells_whether_its_reader_is_gone() {
        let (read, write) = nix::unistd::pipe().unwrap();
        assert!(reader_alive(write.as_fd()));
        drop(read);
        assert!(!reader_alive(write.as_fd()));
    }

    #[test]
    fn a_failed_oom_score_reset_is_an_error() {
        let missing = Path::new("/nonexistent-k8s-mini/oom_score_adj");
        let error = reset_oom_score(missing).unwrap_err();
        assert_eq!(error.exit_code(), 125);
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("oom_score_adj");
        reset_oom_score(&file).unwrap();
        assert_eq!(std::fs::read_to_string(file).unwrap(), "0");
    }
}

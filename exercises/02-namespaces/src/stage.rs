// Generated from solutions/02-namespaces/src/stage.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The init program: everything between "start" and "exec the application",
//! run in a fresh single-threaded process.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use nix::sys::signal::SigSet;
use nix::unistd::{ForkResult, fork};

use process::ExitStatus;

use crate::init::wait_and_forward;
use crate::signals::{exit_like, restore, take_over, waited_signals};
use crate::{ContainerConfig, Extension, InitError, Namespace, clone_flags, setup, write_id_maps};

/// Runs the init program for `config`; never returns.
pub(crate) fn main(config: &ContainerConfig, extension: &dyn Extension) -> ! {
    match stage_zero(config, extension) {
        Ok(status) => exit_like(status),
        Err(error) => fail(&error),
    }
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
    // The init processes live in the container's cgroup with the
    // application; when it runs out of memory, the kernel must kill the
    // application, not them. Lowering the score needs privilege, so a
    // rootless container does without.
    let _ = std::fs::write("/proc/self/oom_score_adj", OOM_PROTECTED);
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
    let signals = waited_signals();
    take_over(&signals).map_err(|source| setup_failed("take over signals", source))?;
    // SAFETY: this process is single-threaded (it is the init program, fresh
    // from exec), so the child may do anything after fork.
    match unsafe { fork() }.map_err(|source| setup_failed("fork PID 1", source))? {
        ForkResult::Child => {
            drop(status_read);
            pid_one(config, extension, &signals, status_write)
        }
        ForkResult::Parent { child } => {
            drop(status_write);
            let own = wait_and_forward(child, &signals);
            Ok(read_status(status_read).unwrap_or(own))
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
) -> ! {
    // If the first process dies, so do we, and with us the whole namespace.
    // SAFETY: prctl with these arguments only changes this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
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
        Ok(ForkResult::Child) => start_application(config, extension, signals, &exec),
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
) -> ! {
    let _ = restore(signals);
    // Back to an ordinary candidate for the OOM killer (raising is always
    // allowed).
    let _ = std::fs::write("/proc/self/oom_score_adj", "0");
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
    if let Err(error) = extension.before_exec(config) {
        fail(&error);
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

/// The wire format of the status pipe: "code N" or "signal N".
fn write_status(pipe: OwnedFd, status: ExitStatus) {
    let text = match status {
        ExitStatus::Code(code) => format!("code {code}"),
        ExitStatus::Signal(signal) => format!("signal {signal}"),
    };
    let _ = std::fs::File::from(pipe).write_all(text.as_bytes());
}

fn read_status(pipe: OwnedFd) -> Option<ExitStatus> {
    let mut text = String::new();
    std::fs::File::from(pipe).read_to_string(&mut text).ok()?;
    let (kind, number) = text.split_once(' ')?;
    let number = number.parse().ok()?;
    match kind {
        "code" => Some(ExitStatus::Code(number)),
        "signal" => Some(ExitStatus::Signal(number)),
        _ => None,
    }
}

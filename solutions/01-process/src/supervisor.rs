use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::command::check_working_dir;
use crate::logs::open_log;
use crate::{
    ContainerSpec, CrashLoop, Event, ExitStatus, FinishReason, SpawnError, Stream, copy_lines,
    resolve_command, stop_gracefully,
};

/// How long to let the log copiers finish after the process exited. Output
/// still held open by a child of the process is not waited for.
const LOG_DRAIN: Duration = Duration::from_secs(1);

/// The grace period used when a [`Supervisor`] is dropped without a stop.
const DROP_GRACE: Duration = Duration::from_secs(30);

/// The exit code container runtimes report for a container that could not
/// be started.
const START_FAILED: ExitStatus = ExitStatus::Code(128);

/// A running supervision: the handle to one process and its restarts.
///
/// Dropping it stops the process (SIGTERM, then SIGKILL after 30 s), so that
/// nothing outlives the code that started it.
pub struct Supervisor {
    events: mpsc::UnboundedReceiver<Event>,
    stop: mpsc::UnboundedSender<Duration>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Supervisor {
    /// Checks the spec, starts the first instance and begins supervising it.
    ///
    /// A bad spec (no such program, no such working directory, a log file
    /// that cannot be written) is an error here, before anything runs.
    pub async fn start(spec: ContainerSpec) -> Result<Supervisor, SpawnError> {
        let launcher = Launcher::new(spec).await?;
        let child = launcher.launch().await?;
        let (event_tx, events) = mpsc::unbounded_channel();
        let (stop, stop_rx) = mpsc::unbounded_channel();
        let _ = event_tx.send(Event::Started {
            pid: child.pid,
            restart_count: 0,
        });
        let task = tokio::spawn(supervise(launcher, child, event_tx, stop_rx));
        Ok(Supervisor { events, stop, task })
    }

    /// The next event, or `None` once supervision has finished and every
    /// event has been read.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Asks for a graceful stop with this grace period. Returns at once; the
    /// events tell how the stop goes.
    pub fn stop(&self, grace: Duration) {
        let _ = self.stop.send(grace);
    }

    /// Waits until supervision has finished and returns the events not read
    /// yet. A panic in the supervising task is raised again here.
    pub async fn wait(mut self) -> std::io::Result<Vec<Event>> {
        let mut rest = Vec::new();
        while let Some(event) = self.events.recv().await {
            rest.push(event);
        }
        match (&mut self.task).await {
            Ok(result) => result.map(|()| rest),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.stop.send(DROP_GRACE);
    }
}

/// Everything needed to start one more instance of the process.
struct Launcher {
    spec: ContainerSpec,
    working_dir: PathBuf,
}

/// One started instance and the tasks copying its output.
struct Instance {
    child: Child,
    pid: u32,
    copiers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Launcher {
    async fn new(spec: ContainerSpec) -> Result<Launcher, SpawnError> {
        let working_dir = match &spec.working_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().map_err(|source| SpawnError::Spawn {
                path: PathBuf::from("."),
                source,
            })?,
        };
        check_working_dir(&working_dir)?;
        resolve_command(&spec.command, spec.path_var(), &working_dir)?;
        // Open once now so that an unwritable log is reported up front.
        open_log(&spec.log_path)?;
        Ok(Launcher { spec, working_dir })
    }

    // ANCHOR: launch
    async fn launch(&self) -> Result<Instance, SpawnError> {
        let spec = &self.spec;
        let program = resolve_command(&spec.command, spec.path_var(), &self.working_dir)?;
        let mut command = Command::new(&program);
        command
            .args(&spec.args)
            .env_clear()
            .env("PATH", crate::DEFAULT_PATH)
            .envs(spec.env.iter().map(|(key, value)| (key, value)))
            .current_dir(&self.working_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own session (and so its own process group): a forced
            // stop reaches its children, and a process that outlives the
            // supervisor (a container's shim) does not share its terminal
            // or session.
            // If the supervisor itself goes away, so does the process.
            .kill_on_drop(true);
        // SAFETY: setsid is async-signal-safe, as a hook between fork and
        // exec requires.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|source| SpawnError::Spawn {
            path: program.clone(),
            source,
        })?;
        let pid = child.id().unwrap_or_default();
        let log = open_log(&spec.log_path)?;
        let log_error = |source| SpawnError::Log {
            path: spec.log_path.clone(),
            source,
        };
        let mut copiers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let log = log.try_clone().map_err(log_error)?;
            copiers.push(tokio::spawn(copy_lines(stdout, Stream::Stdout, log)));
        }
        if let Some(stderr) = child.stderr.take() {
            copiers.push(tokio::spawn(copy_lines(stderr, Stream::Stderr, log)));
        }
        Ok(Instance {
            child,
            pid,
            copiers,
        })
    }
    // ANCHOR_END: launch
}

impl Instance {
    /// Lets the log copiers write out what the process printed last, so that
    /// the log is complete when the exit is reported.
    async fn drain_logs(self) {
        let deadline = Instant::now() + LOG_DRAIN;
        for copier in self.copiers {
            let _ = tokio::time::timeout_at(deadline, copier).await;
        }
    }
}

// ANCHOR: supervise
/// The control loop of one process: run it, and when it exits, ask the
/// restart policy, wait out the back-off and run it again, until the policy
/// says no or a stop is requested.
async fn supervise(
    launcher: Launcher,
    first: Instance,
    events: mpsc::UnboundedSender<Event>,
    mut stop: mpsc::UnboundedReceiver<Duration>,
) -> std::io::Result<()> {
    let emit = |event| {
        let _ = events.send(event);
    };
    let policy = launcher.spec.restart_policy;
    let mut crash_loop = CrashLoop::new(launcher.spec.backoff);
    let mut restart_count = 0;
    let mut current = Some(first);
    loop {
        // Run the current instance (if it started) until it exits or a stop
        // is requested.
        let (status, ran_for) = match current.take() {
            Some(mut instance) => {
                let started = Instant::now();
                tokio::select! {
                    status = instance.child.wait() => {
                        let status = ExitStatus::from_std(status?);
                        instance.drain_logs().await;
                        emit(Event::Exited { status });
                        (status, started.elapsed())
                    }
                    grace = stop.recv() => {
                        let grace = grace.unwrap_or(DROP_GRACE);
                        emit(Event::Stopping { grace });
                        let outcome = stop_gracefully(&mut instance.child, grace).await?;
                        if outcome.killed {
                            emit(Event::Killed);
                        }
                        instance.drain_logs().await;
                        emit(Event::Exited { status: outcome.status });
                        emit(Event::Finished { reason: FinishReason::Stopped });
                        return Ok(());
                    }
                }
            }
            None => (START_FAILED, Duration::ZERO),
        };
        if !policy.should_restart(status) {
            emit(Event::Finished {
                reason: FinishReason::NotRestarted { policy, status },
            });
            return Ok(());
        }
        let delay = crash_loop.next_delay(ran_for);
        emit(Event::BackOff { delay });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stop.recv() => {
                emit(Event::Finished { reason: FinishReason::Stopped });
                return Ok(());
            }
        }
        restart_count += 1;
        match launcher.launch().await {
            Ok(instance) => {
                emit(Event::Started {
                    pid: instance.pid,
                    restart_count,
                });
                current = Some(instance);
            }
            Err(error) => emit(Event::StartFailed {
                error: error.to_string(),
            }),
        }
    }
}
// ANCHOR_END: supervise

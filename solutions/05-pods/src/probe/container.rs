use std::fmt;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use super::outcome::Outcome;
use super::spec::{Action, InvalidProbe, Probe, ProbeKind};
use super::target::Target;
use super::threshold::{Status, Tracker};

/// The probes of one container, as its spec lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerProbes {
    /// `startupProbe`.
    pub startup: Option<Probe>,
    /// `livenessProbe`.
    pub liveness: Option<Probe>,
    /// `readinessProbe`.
    pub readiness: Option<Probe>,
}

/// Why the probes of a container could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// A probe breaks a rule of the API.
    #[error(transparent)]
    Invalid(#[from] InvalidProbe),
    /// An exec probe, but the target has no [`Exec`](super::Exec).
    #[error("{}.exec: the target cannot run commands in the container", .0.field())]
    NoExec(ProbeKind),
}

/// What the probes of a container report to the pod layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeEvent {
    /// One run failed (the kubelet's `Unhealthy` warning event). Not yet a
    /// verdict: that takes `failure_threshold` failures in a row.
    Unhealthy {
        /// Which probe.
        probe: ProbeKind,
        /// What went wrong, as the event says it.
        message: String,
    },
    /// One run passed with a warning (`ProbeWarning`).
    Warning {
        /// Which probe.
        probe: ProbeKind,
        /// The warning.
        message: String,
    },
    /// One run could not be made at all; it is not counted.
    Errored {
        /// Which probe.
        probe: ProbeKind,
        /// Why.
        message: String,
    },
    /// The container has started: its startup probe passed, or it has
    /// none. Liveness and readiness probes run from now on.
    Started,
    /// The container's readiness changed: whether Services may send it
    /// traffic.
    Ready(bool),
    /// The liveness or startup probe failed `failure_threshold` times in a
    /// row: the container must be restarted. Probing has stopped; the pod
    /// layer starts new probes for the new container.
    Restart {
        /// Which probe failed.
        probe: ProbeKind,
        /// The last run's failure.
        message: String,
    },
}

impl ProbeEvent {
    /// The reason of the Kubernetes event the kubelet records for this,
    /// if it records one.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            ProbeEvent::Unhealthy { .. } | ProbeEvent::Errored { .. } => Some("Unhealthy"),
            ProbeEvent::Warning { .. } => Some("ProbeWarning"),
            ProbeEvent::Restart { .. } => Some("Killing"),
            ProbeEvent::Started | ProbeEvent::Ready(_) => None,
        }
    }

    /// The message of that event for the container named `container`.
    pub fn event_message(&self, container: &str) -> String {
        match self {
            ProbeEvent::Restart { probe, .. } => format!(
                "Container {container} failed {} probe, will be restarted",
                probe.to_string().to_lowercase()
            ),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for ProbeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeEvent::Unhealthy { probe, message } => {
                write!(f, "{probe} probe failed: {message}")
            }
            ProbeEvent::Warning { probe, message } => write!(f, "{probe} probe warning: {message}"),
            ProbeEvent::Errored { probe, message } => write!(f, "{probe} probe errored: {message}"),
            ProbeEvent::Started => f.write_str("Started"),
            ProbeEvent::Ready(true) => f.write_str("Ready"),
            ProbeEvent::Ready(false) => f.write_str("Not ready"),
            ProbeEvent::Restart { probe, message } => write!(
                f,
                "Restart: failed {} probe ({message})",
                probe.to_string().to_lowercase()
            ),
        }
    }
}

/// Where a container stands, for its status in the pod's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeState {
    /// `containerStatuses[].started`.
    pub started: bool,
    /// `containerStatuses[].ready`.
    pub ready: bool,
}

impl ContainerProbes {
    /// Checks every probe against the API's rules.
    pub fn validate(&self) -> Result<(), InvalidProbe> {
        for (kind, probe) in self.each() {
            probe.validate(kind)?;
        }
        Ok(())
    }

    /// Starts probing a container that has just started. Must be called
    /// within a tokio runtime.
    pub fn start(self, target: Target) -> Result<ProbeHandle, ProbeError> {
        self.start_from(target, Instant::now())
    }

    /// Starts probing a container that started at `container_started`:
    /// initial delays count from then, as the kubelet counts them from the
    /// container's start time (which matters to an agent that restarts and
    /// finds the container already running).
    pub fn start_from(
        self,
        target: Target,
        container_started: Instant,
    ) -> Result<ProbeHandle, ProbeError> {
        self.validate()?;
        for (kind, probe) in self.each() {
            if matches!(probe.action, Action::Exec { .. }) && target.exec.is_none() {
                return Err(ProbeError::NoExec(kind));
            }
        }
        let (events, events_rx) = mpsc::unbounded_channel();
        let (state, state_rx) = watch::channel(ProbeState::default());
        let (halt, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            target,
            events,
            state,
            halt,
            container_started,
            has_readiness: self.readiness.is_some(),
        });

        let mut tasks = JoinSet::new();
        match self.startup {
            Some(probe) => spawn(&mut tasks, &shared, ProbeKind::Startup, probe),
            // Without a startup probe the container counts as started at once.
            None => shared.mark_started(),
        }
        if let Some(probe) = self.liveness {
            spawn(&mut tasks, &shared, ProbeKind::Liveness, probe);
        }
        if let Some(probe) = self.readiness {
            spawn(&mut tasks, &shared, ProbeKind::Readiness, probe);
        }
        Ok(ProbeHandle {
            events: events_rx,
            state: state_rx,
            tasks,
        })
    }

    fn each(&self) -> impl Iterator<Item = (ProbeKind, &Probe)> {
        [
            (ProbeKind::Startup, &self.startup),
            (ProbeKind::Liveness, &self.liveness),
            (ProbeKind::Readiness, &self.readiness),
        ]
        .into_iter()
        .filter_map(|(kind, probe)| probe.as_ref().map(|probe| (kind, probe)))
    }
}

/// The running probes of one container. Dropping it stops them (and kills
/// a probe command still running); [`ProbeHandle::stop`] also waits until
/// they are gone.
#[derive(Debug)]
pub struct ProbeHandle {
    events: mpsc::UnboundedReceiver<ProbeEvent>,
    state: watch::Receiver<ProbeState>,
    tasks: JoinSet<()>,
}

impl ProbeHandle {
    /// The next event; `None` once probing has ended (after a
    /// [`ProbeEvent::Restart`], or when there is nothing left to probe).
    ///
    /// A probe task that panicked (a bug) panics here too, rather than
    /// leaving the container silently unprobed.
    pub async fn next_event(&mut self) -> Option<ProbeEvent> {
        loop {
            tokio::select! {
                // Events first: what a task said before it ended comes out.
                biased;
                event = self.events.recv() => {
                    if event.is_none() {
                        // Every task has ended: say why if one panicked.
                        while let Some(joined) = self.tasks.join_next().await {
                            rethrow(joined);
                        }
                    }
                    return event;
                }
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => rethrow(joined),
            }
        }
    }

    /// Where the container stands now.
    pub fn state(&self) -> ProbeState {
        *self.state.borrow()
    }

    /// A receiver that sees every change of [`ProbeHandle::state`].
    pub fn watch_state(&self) -> watch::Receiver<ProbeState> {
        self.state.clone()
    }

    /// Stops every probe and waits until they have stopped.
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Passes a probe task's panic on to whoever reads the events.
fn rethrow(joined: Result<(), tokio::task::JoinError>) {
    match joined {
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        _ => {}
    }
}

/// What the probe tasks of one container share.
struct Shared {
    target: Target,
    events: mpsc::UnboundedSender<ProbeEvent>,
    state: watch::Sender<ProbeState>,
    /// Set when a probe has decided on a restart: the others stop too.
    halt: watch::Sender<bool>,
    container_started: Instant,
    has_readiness: bool,
}

impl Shared {
    fn send(&self, event: ProbeEvent) {
        // Nobody listening is fine: the owner may only watch the state.
        let _ = self.events.send(event);
    }

    /// The container has started; without a readiness probe it is ready
    /// at the same moment. Events go out before the state changes, so that
    /// nothing a woken probe says can come before them.
    fn mark_started(&self) {
        self.send(ProbeEvent::Started);
        let ready = !self.has_readiness;
        if ready {
            self.send(ProbeEvent::Ready(true));
        }
        self.state.send_modify(|state| {
            state.started = true;
            state.ready = ready;
        });
    }

    fn restart(&self, probe: ProbeKind, message: String) {
        self.send(ProbeEvent::Restart { probe, message });
        self.halt.send_replace(true);
    }

    /// Reports one run, and says whether it counts (and how).
    fn report(&self, probe: ProbeKind, outcome: &Outcome) -> Option<bool> {
        match outcome {
            Outcome::Success => {}
            Outcome::Warning(message) => self.send(ProbeEvent::Warning {
                probe,
                message: message.clone(),
            }),
            Outcome::Failure(message) => self.send(ProbeEvent::Unhealthy {
                probe,
                message: message.clone(),
            }),
            Outcome::Error(message) => self.send(ProbeEvent::Errored {
                probe,
                message: message.clone(),
            }),
        }
        outcome.passed()
    }
}

fn spawn(tasks: &mut JoinSet<()>, shared: &Arc<Shared>, kind: ProbeKind, probe: Probe) {
    let shared = Arc::clone(shared);
    let mut halt = shared.halt.subscribe();
    tasks.spawn(async move {
        tokio::select! {
            () = run(&shared, kind, probe) => {}
            _ = halt.wait_for(|halted| *halted) => {}
        }
    });
}

/// One probe's loop, as the kubelet's prober worker runs it.
async fn run(shared: &Shared, kind: ProbeKind, probe: Probe) {
    if kind != ProbeKind::Startup {
        // Liveness and readiness wait for the startup probe.
        let mut state = shared.state.subscribe();
        if state.wait_for(|state| state.started).await.is_err() {
            return;
        }
    }
    // The initial delay counts from the container's start, so a startup
    // probe that took longer than it has used it up.
    let first = (shared.container_started + probe.initial_delay).max(Instant::now());
    let mut ticks = tokio::time::interval_at(first, probe.period);
    // A probe slower than its period delays the next one; it does not
    // cause a burst of catch-up probes.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tracker = Tracker::new(kind, &probe);
    loop {
        ticks.tick().await;
        let outcome = shared.target.probe(&probe).await;
        let Some(passed) = shared.report(kind, &outcome) else {
            continue;
        };
        let Some(status) = tracker.observe(passed) else {
            continue;
        };
        match (kind, status) {
            (ProbeKind::Startup, Status::Success) => {
                shared.mark_started();
                return;
            }
            (ProbeKind::Liveness | ProbeKind::Startup, Status::Failure) => {
                shared.restart(kind, failure_message(outcome));
                return;
            }
            (ProbeKind::Readiness, status) => {
                let ready = status == Status::Success;
                shared.send(ProbeEvent::Ready(ready));
                shared.state.send_modify(|state| state.ready = ready);
            }
            _ => {}
        }
    }
}

fn failure_message(outcome: Outcome) -> String {
    match outcome {
        Outcome::Failure(message) | Outcome::Warning(message) | Outcome::Error(message) => message,
        Outcome::Success => String::new(),
    }
}

//! `k8s-mini run`: supervise one process in the foreground (chapter 01).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::signal::unix::{SignalKind, signal};

use crate::chapters::cgroups::Limits;
use crate::chapters::filesystem::rootfs::Volume;
use crate::chapters::process::{Backoff, ContainerSpec, Event, RestartPolicy, Supervisor};
use crate::container::{Settings, contain};
use crate::duration::parse_duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    k8s-mini run --restart OnFailure -- sh -c 'echo working; exit 1'\n  \
    k8s-mini run --name web --backoff-initial 1s -- python3 -m http.server 8080\n  \
    k8s-mini run --isolate --hostname box --restart Never -- sh -c 'hostname; ps -e'\n\n\
    Ctrl-C (or SIGTERM) stops the process gracefully: SIGTERM, then SIGKILL after --grace.\n\
    The process's output is shown and kept in DATA_DIR/logs/NAME.log (--log to choose), where\n\
    DATA_DIR is --data-dir: /var/lib/k8s-mini for root, else ~/.local/share/k8s-mini.")]
pub struct RunArgs {
    /// A name for the process, used in messages and for its log file
    /// [default: the program's file name]
    #[arg(long)]
    name: Option<String>,
    /// When to restart the process: Always, OnFailure or Never
    #[arg(long, default_value = "Always", value_parser = parse_policy)]
    restart: RestartPolicy,
    /// An environment variable for the process (repeatable); nothing else is
    /// inherited but PATH
    #[arg(short, long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// The directory the process starts in [default: the current one]
    #[arg(short, long)]
    workdir: Option<PathBuf>,
    /// The log file, in the CRI format the kubelet writes; kept after the
    /// run, appended to by the next run of the same name
    /// [default: DATA_DIR/logs/NAME.log, under --data-dir]
    #[arg(long)]
    log: Option<PathBuf>,
    /// How long the process may take to exit after SIGTERM when stopped
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    grace: Duration,
    /// The wait before the first restart of a crash loop
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    backoff_initial: Duration,
    /// The longest wait between restarts
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    backoff_max: Duration,
    /// A run at least this long resets the back-off
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    backoff_reset: Duration,
    /// Run the process in a container: new PID, UTS, IPC, mount and network
    /// namespaces (and a user namespace when not root)
    #[arg(long)]
    isolate: bool,
    /// Run it in a container with this image's root filesystem (implies
    /// --isolate); COMMAND then replaces the image's entrypoint
    #[arg(long)]
    image: Option<String>,
    /// Make the container's root filesystem read-only
    #[arg(long, requires = "image")]
    read_only: bool,
    /// Mount a host path into the container: SOURCE:TARGET[:ro] (repeatable)
    #[arg(short, long = "volume", value_name = "SRC:DST[:ro]", requires = "image", value_parser = crate::container::parse_volume)]
    volumes: Vec<Volume>,
    /// Memory limit, like 64Mi or 1Gi: the process is OOM-killed beyond it
    #[arg(long, value_parser = crate::quantity::parse_memory)]
    memory: Option<u64>,
    /// CPU limit, in millicores (500m) or cores (0.5)
    #[arg(long, value_parser = crate::quantity::parse_cpu)]
    cpu: Option<i64>,
    /// The most processes the container may have at once
    #[arg(long)]
    pids: Option<i64>,
    /// The hostname inside the container [default: NAME]
    #[arg(long)]
    hostname: Option<String>,
    /// Print only the supervisor's events, not the process's output
    #[arg(short, long)]
    quiet: bool,
    /// The program and its arguments (with --image: optional, the image's
    /// entrypoint runs otherwise)
    #[arg(
        required_unless_present = "image",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

fn parse_policy(text: &str) -> Result<RestartPolicy, String> {
    text.parse()
}

pub fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// Runs the command under supervision until the restart policy lets it end
/// or a signal stops it; returns the exit code to leave with.
pub async fn run(args: RunArgs, data_dir: &Path) -> anyhow::Result<i32> {
    let (program, program_args) = args
        .command
        .split_first()
        .map_or(("", &[][..]), |(first, rest)| (first.as_str(), rest));
    let name = match (&args.name, &args.image) {
        (Some(name), _) => name.clone(),
        (None, Some(image)) if program.is_empty() => default_name(image),
        _ => default_name(program),
    };
    // Under the data directory, with the rest of k8s-mini's state, rather
    // than wherever the command happens to be typed.
    let log = args
        .log
        .clone()
        .unwrap_or_else(|| data_dir.join("logs").join(format!("{name}.log")));
    let mut spec = ContainerSpec::new(&name, program)
        .args(program_args.iter().cloned())
        .log_path(&log)
        .restart_policy(args.restart)
        .backoff(Backoff {
            initial: args.backoff_initial,
            max: args.backoff_max,
            reset_after: args.backoff_reset,
        });
    for (key, value) in &args.env {
        spec = spec.env(key, value);
    }
    if let Some(dir) = &args.workdir {
        spec = spec.working_dir(dir);
    }

    let settings = Settings {
        isolate: args.isolate || args.hostname.is_some(),
        hostname: args.hostname.clone(),
        image: args.image.clone(),
        read_only: args.read_only,
        volumes: args.volumes.clone(),
        limits: Limits {
            memory_bytes: args.memory,
            cpu_limit_millis: args.cpu,
            cpu_request_millis: None,
            pids_max: args.pids,
        },
    };
    // Removed when it goes: at the end, or on any error from here on.
    let (spec, mut made) = contain(spec, &settings, data_dir)?;

    let log_start = std::fs::metadata(&log).map_or(0, |metadata| metadata.len());
    let mut supervisor = Supervisor::start(spec)
        .await
        .with_context(|| format!("cannot run {name}"))?;
    say(
        &name,
        &format!(
            "supervising {} (restart policy {}); log {}; Ctrl-C stops it",
            describe(&args.command, args.image.as_deref()),
            args.restart,
            log.display()
        ),
    );
    // The process's output is shown by following its log: on a timer while
    // it runs, and before each event, so that the two appear in order.
    let mut shown = log_start;
    let mut tick = tokio::time::interval(Duration::from_millis(50));

    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut stopping = false;
    let mut exit_code = 0;
    loop {
        let event = tokio::select! {
            // Events first, so the printed order does not depend on timing.
            biased;
            event = supervisor.next_event() => event,
            _ = tick.tick(), if !args.quiet => {
                let _ = print_new_lines(&log, &mut shown, &name, false).await;
                continue
            }
            _ = interrupt.recv(), if !stopping => { stopping = true; supervisor.stop(args.grace); continue }
            _ = terminate.recv(), if !stopping => { stopping = true; supervisor.stop(args.grace); continue }
        };
        let Some(event) = event else { break };
        // Output comes after the start that made it and before the exit.
        if !args.quiet && !matches!(event, Event::Started { .. }) {
            let _ = print_new_lines(&log, &mut shown, &name, false).await;
        }
        say(&name, &event.to_string());
        if let Event::Exited { status } = &event {
            exit_code = status.kubernetes_code();
            if settings.limits != Limits::default() {
                say(&name, &format!("Terminated: {}", made.termination(*status)));
            }
        }
    }
    supervisor.wait().await?;
    made.clean_up()?;
    if !args.quiet {
        // Whatever is left, even a last line without its newline.
        let _ = print_new_lines(&log, &mut shown, &name, true).await;
    }
    Ok(exit_code)
}

/// A name from a program path or an image name: its last part.
fn default_name(text: &str) -> String {
    let last = text.rsplit('/').next().unwrap_or(text);
    let last = last.split(':').next().unwrap_or(last);
    if last.is_empty() {
        "process".to_string()
    } else {
        last.to_string()
    }
}

fn say(name: &str, message: &str) {
    let time = chrono::Local::now().format("%H:%M:%S%.3f");
    println!("{time} {name}: {message}");
}

/// The command line as a shell would need it, or the image whose
/// entrypoint runs.
fn describe(command: &[String], image: Option<&str>) -> String {
    let line = command
        .iter()
        .map(|arg| shell_quote(arg))
        .collect::<Vec<_>>()
        .join(" ");
    match image {
        Some(image) if line.is_empty() => format!("the entrypoint of image {image}"),
        Some(image) => format!("{line} in image {image}"),
        None => line,
    }
}

/// Quotes an argument for display the way a shell would need it.
fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Prints the whole entries written to the log since `offset`.
async fn print_new_lines(
    log: &Path,
    offset: &mut u64,
    name: &str,
    to_end: bool,
) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(log).await?;
    file.seek(std::io::SeekFrom::Start(*offset)).await?;
    let mut fresh = Vec::new();
    file.read_to_end(&mut fresh).await?;
    let whole = if to_end {
        fresh.len()
    } else {
        fresh.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
    };
    for entry in fresh[..whole]
        .split(|&b| b == b'\n')
        .filter(|entry| !entry.is_empty())
    {
        let text = String::from_utf8_lossy(entry);
        // `<time> <stream> <P|F> <content>`
        let mut fields = text.splitn(4, ' ');
        let (_, stream, _, content) = (fields.next(), fields.next(), fields.next(), fields.next());
        say(
            name,
            &format!("{} | {}", stream.unwrap_or("?"), content.unwrap_or("")),
        );
    }
    *offset += whole as u64;
    Ok(())
}

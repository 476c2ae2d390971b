// Generated from solutions/08-kubelet/src/translate.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! From the API's Pod (chapter 06) to what the node runs (chapter 05's
//! [`pods::PodSpec`]): containers, command and args, environment, ports,
//! probes, volumes, restart policy, grace period and the cgroup limits of
//! each container, its resolv.conf and its Service variables. Kubernetes:
//! the kubelet's `kuberuntime` manager builds the CRI's container configs
//! the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use objects::IntOrString;
use objects::Pod;
use objects::pod::{Container as ApiContainer, Probe as ApiProbe};
use pods::probe::{Action, ContainerProbes, HttpGet, HttpHeader, Probe, TcpSocket};
use pods::{Container, ContainerPort, PodSpec, Volume, VolumeMount, VolumeSource};
use process::{Backoff, RestartPolicy};

use crate::config_env::{CONFIG_ERROR, ConfigObjects, config_env};
use crate::config_volumes::{is_config_volume, volume_dir};
use crate::dns::{ClusterDns, resolv_conf};
use crate::plan::DEFAULT_GRACE;
use crate::resources::{Rejection, container_limits};
use crate::service_env::service_env;

/// What the pod gets beside its own spec: its node's address (for
/// `status.hostIP` references), the crash-loop back-off, the cluster's
/// DNS and the Services it is told about.
#[derive(Debug, Clone)]
pub struct Environment<'a> {
    pub node_name: &'a str,
    pub host_ip: &'a str,
    pub backoff: Backoff,
    pub dns: ClusterDns,
    /// The node's resolv.conf, for `dnsConfig` added to it.
    pub host_resolv_conf: String,
    /// The Services whose variables each container gets
    /// ([`crate::service_env::linked_services`]).
    pub services: Vec<Arc<objects::Service>>,
    /// The ConfigMaps and Secrets of the pod's namespace.
    pub config: ConfigObjects,
    /// The node's data directory, where ConfigMap and Secret volumes are
    /// written ([`crate::config_volumes`]).
    pub data_dir: PathBuf,
}

fn refuse(message: String) -> Rejection {
    Rejection {
        reason: "UnsupportedPodSpec".into(),
        message,
    }
}

/// The runtime's spec of the API's pod, or why this node cannot run it.
pub fn pod_spec(pod: &Pod, environment: &Environment) -> Result<PodSpec, Rejection> {
    let spec = &pod.spec;
    let containers = |list: &[ApiContainer]| -> Result<Vec<Container>, Rejection> {
        list.iter()
            .map(|container| self::container(pod, container, environment))
            .collect()
    };
    let restart_policy = match spec.restart_policy.as_deref() {
        None | Some("Always") => RestartPolicy::Always,
        Some("OnFailure") => RestartPolicy::OnFailure,
        Some("Never") => RestartPolicy::Never,
        Some(other) => return Err(refuse(format!("unknown restartPolicy {other:?}"))),
    };
    Ok(PodSpec {
        name: pod.metadata.name().to_string(),
        namespace: pod.metadata.namespace().to_string(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        hostname: spec.hostname.clone(),
        init_containers: containers(&spec.init_containers)?,
        containers: containers(&spec.containers)?,
        volumes: spec
            .volumes
            .iter()
            .map(|v| volume(pod, v, environment))
            .collect::<Result<_, _>>()?,
        restart_policy,
        termination_grace_period: spec
            .termination_grace_period_seconds
            .map_or(DEFAULT_GRACE, |s| Duration::from_secs(s.max(0) as u64)),
        backoff: environment.backoff,
        resolv_conf: resolv_conf(pod, &environment.dns, &environment.host_resolv_conf),
        service_env: service_env(&environment.services),
    })
}

fn volume(
    pod: &Pod,
    volume: &objects::pod::Volume,
    environment: &Environment,
) -> Result<Volume, Rejection> {
    let source = if is_config_volume(volume) {
        // The agent writes the files there before the pod starts; the
        // containers only read them, as in Kubernetes.
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        VolumeSource::HostPath {
            path: volume_dir(&environment.data_dir, uid, &volume.name),
            writable: false,
        }
    } else if volume.empty_dir.is_some() {
        VolumeSource::EmptyDir
    } else if let Some(host) = &volume.host_path {
        VolumeSource::HostPath {
            path: PathBuf::from(&host.path),
            // Kubernetes mounts host paths writable; chapter 05 asks to
            // say so, and the API has no other way to say it.
            writable: true,
        }
    } else {
        return Err(refuse(format!(
            "volume {:?}: only emptyDir, hostPath, configMap and secret volumes are supported on this node",
            volume.name
        )));
    };
    Ok(Volume {
        name: volume.name.clone(),
        source,
    })
}

/// An environment variable's value: its own, or one of the downward API's
/// fields the node knows at start.
fn env_value(pod: &Pod, var: &objects::pod::EnvVar, environment: &Environment) -> Option<String> {
    if let Some(value) = &var.value {
        return Some(value.clone());
    }
    let field = var.value_from.as_ref()?.field_ref.as_ref()?;
    match field.field_path.as_str() {
        "metadata.name" => Some(pod.metadata.name().to_string()),
        "metadata.namespace" => Some(pod.metadata.namespace().to_string()),
        "metadata.uid" => pod.metadata.uid.clone(),
        "spec.nodeName" => Some(environment.node_name.to_string()),
        "spec.serviceAccountName" => pod.spec.service_account_name.clone(),
        "status.hostIP" => Some(environment.host_ip.to_string()),
        _ => None,
    }
}

fn container(
    pod: &Pod,
    container: &ApiContainer,
    environment: &Environment,
) -> Result<Container, Rejection> {
    let probe = |probe: &Option<ApiProbe>| -> Result<Option<Probe>, Rejection> {
        probe
            .as_ref()
            .map(|probe| self::probe(probe, container))
            .transpose()
    };
    // envFrom first, then env; a later variable of a name replaces an
    // earlier one, as the kubelet merges them.
    let config = config_env(container, &environment.config).map_err(|message| Rejection {
        reason: CONFIG_ERROR.into(),
        message,
    })?;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: String| match env.iter_mut().find(|(n, _)| n == name) {
        Some(existing) => existing.1 = value,
        None => env.push((name.to_string(), value)),
    };
    for (name, value) in config.from_sources {
        set(&name, value);
    }
    for var in &container.env {
        let value = match config.from_refs.get(&var.name) {
            Some(Some(value)) => value.clone(),
            // An optional reference to nothing: no variable at all.
            Some(None) => continue,
            None => env_value(pod, var, environment).unwrap_or_default(),
        };
        set(&var.name, value);
    }
    Ok(Container {
        name: container.name.clone(),
        image: container.image.clone().unwrap_or_default(),
        command: container.command.clone(),
        args: container.args.clone(),
        env,
        working_dir: container.working_dir.clone(),
        ports: container
            .ports
            .iter()
            .map(|port| ContainerPort {
                name: port.name.clone(),
                container_port: i64::from(port.container_port),
                protocol: port.protocol.clone().unwrap_or_else(|| "TCP".into()),
            })
            .collect(),
        volume_mounts: container
            .volume_mounts
            .iter()
            .map(|mount| VolumeMount {
                name: mount.name.clone(),
                mount_path: mount.mount_path.clone(),
                read_only: mount.read_only,
            })
            .collect(),
        limits: container_limits(container),
        probes: ContainerProbes {
            startup: probe(&container.startup_probe)?,
            liveness: probe(&container.liveness_probe)?,
            readiness: probe(&container.readiness_probe)?,
        },
    })
}

/// A probe's port: a number, or the name of one of the container's ports.
fn port(port: &IntOrString, container: &ApiContainer) -> Result<u16, Rejection> {
    let number = match port {
        IntOrString::Int(number) => *number,
        IntOrString::String(name) => container
            .ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port)
            .ok_or_else(|| {
                refuse(format!(
                    "container {:?} has no port named {name:?}",
                    container.name
                ))
            })?,
    };
    u16::try_from(number)
        .map_err(|_| refuse(format!("probe port {number} is not between 0 and 65535")))
}

fn probe(probe: &ApiProbe, container: &ApiContainer) -> Result<Probe, Rejection> {
    let action = if let Some(exec) = &probe.exec {
        Action::exec(exec.command.clone())
    } else if let Some(get) = &probe.http_get {
        Action::HttpGet(HttpGet {
            path: get.path.clone().unwrap_or_else(|| "/".into()),
            port: port(&get.port, container)?,
            host: get.host.clone(),
            headers: get
                .http_headers
                .iter()
                .map(|h| HttpHeader::new(&h.name, &h.value))
                .collect(),
        })
    } else if let Some(tcp) = &probe.tcp_socket {
        Action::TcpSocket(TcpSocket {
            port: port(&tcp.port, container)?,
            host: tcp.host.clone(),
        })
    } else {
        return Err(refuse(format!(
            "a probe of container {:?} has no exec, httpGet or tcpSocket",
            container.name
        )));
    };
    let seconds = |value: Option<i32>, default: Duration| {
        value.map_or(default, |s| Duration::from_secs(s.max(0) as u64))
    };
    let count = |value: Option<i32>, default: u32| value.map_or(default, |n| n.max(0) as u32);
    Ok(Probe {
        action,
        initial_delay: seconds(probe.initial_delay_seconds, Duration::ZERO),
        period: seconds(probe.period_seconds, Probe::DEFAULT_PERIOD),
        timeout: seconds(probe.timeout_seconds, Probe::DEFAULT_TIMEOUT),
        success_threshold: count(probe.success_threshold, Probe::DEFAULT_SUCCESS_THRESHOLD),
        failure_threshold: count(probe.failure_threshold, Probe::DEFAULT_FAILURE_THRESHOLD),
    })
}

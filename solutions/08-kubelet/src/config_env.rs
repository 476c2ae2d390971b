//! Environment variables from ConfigMaps and Secrets: one key
//! (`env[].valueFrom.configMapKeyRef`, `secretKeyRef`) or every key
//! (`envFrom`), read when the container starts. A missing object or key
//! that is not `optional` keeps the container from being created
//! (`CreateContainerConfigError`) until it appears; later changes reach
//! only containers started afterwards, as in Kubernetes. Kubernetes: the
//! kubelet's `makeEnvironmentVariables`.

use std::collections::BTreeMap;
use std::sync::Arc;

use objects::pod::{Container, EnvFromSource, KeySelector};
use objects::{ConfigMap, Secret};

/// Environment variables, name and value, in order.
pub type Variables = Vec<(String, String)>;

/// The container waiting reason of a container whose configuration is
/// missing.
pub const CONFIG_ERROR: &str = "CreateContainerConfigError";

/// The ConfigMaps and Secrets of one namespace, by name: what the agent's
/// informers know when a pod starts.
#[derive(Debug, Clone, Default)]
pub struct ConfigObjects {
    pub namespace: String,
    pub config_maps: BTreeMap<String, Arc<ConfigMap>>,
    pub secrets: BTreeMap<String, Arc<Secret>>,
}

impl ConfigObjects {
    /// The objects of `namespace` among all those known.
    pub fn of(namespace: &str, config_maps: &[Arc<ConfigMap>], secrets: &[Arc<Secret>]) -> Self {
        let mine = |meta: &objects::ObjectMeta| meta.namespace() == namespace;
        ConfigObjects {
            namespace: namespace.to_string(),
            config_maps: config_maps
                .iter()
                .filter(|c| mine(&c.metadata))
                .map(|c| (c.metadata.name().to_string(), c.clone()))
                .collect(),
            secrets: secrets
                .iter()
                .filter(|s| mine(&s.metadata))
                .map(|s| (s.metadata.name().to_string(), s.clone()))
                .collect(),
        }
    }

    /// The key's value; `Ok(None)` when optional and missing, `Err` with
    /// the kubelet's message when missing.
    fn config_map_key(&self, selector: &KeySelector) -> Result<Option<String>, String> {
        let optional = selector.optional == Some(true);
        let Some(config_map) = self.config_maps.get(&selector.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(format!("configmap {:?} not found", selector.name))
            };
        };
        match config_map.data.get(&selector.key) {
            Some(value) => Ok(Some(value.clone())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in ConfigMap {}/{}",
                selector.key, self.namespace, selector.name
            )),
        }
    }

    fn secret_key(&self, selector: &KeySelector) -> Result<Option<String>, String> {
        let optional = selector.optional == Some(true);
        let Some(secret) = self.secrets.get(&selector.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(format!("secret {:?} not found", selector.name))
            };
        };
        match secret.data.get(&selector.key) {
            Some(value) => Ok(Some(String::from_utf8_lossy(&value.0).into_owned())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in Secret {}/{}",
                selector.key, self.namespace, selector.name
            )),
        }
    }

    /// The variables of one `envFrom` entry, and the warning about the
    /// keys that are not valid variable names (skipped), if any.
    fn env_from(&self, source: &EnvFromSource) -> Result<(Variables, Option<String>), String> {
        let prefix = source.prefix.as_deref().unwrap_or("");
        let (what, name, entries): (&str, &str, Option<Vec<(String, String)>>) =
            match (&source.config_map_ref, &source.secret_ref) {
                (Some(reference), _) => {
                    let entries = self
                        .config_maps
                        .get(&reference.name)
                        .map(|c| c.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                    match entries {
                        None if reference.optional != Some(true) => {
                            return Err(format!("configmap {:?} not found", reference.name));
                        }
                        entries => ("configMap", &reference.name, entries),
                    }
                }
                (None, Some(reference)) => {
                    let entries = self.secrets.get(&reference.name).map(|s| {
                        s.data
                            .iter()
                            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
                            .collect()
                    });
                    match entries {
                        None if reference.optional != Some(true) => {
                            return Err(format!("secret {:?} not found", reference.name));
                        }
                        entries => ("secret", &reference.name, entries),
                    }
                }
                (None, None) => return Ok((Vec::new(), None)),
            };
        let mut vars = Vec::new();
        let mut invalid = Vec::new();
        for (key, value) in entries.unwrap_or_default() {
            let name = format!("{prefix}{key}");
            if objects::names::env_var_name(&name).is_empty() {
                vars.push((name, value));
            } else {
                invalid.push(name);
            }
        }
        let warning = (!invalid.is_empty()).then(|| {
            invalid.sort();
            format!(
                "Keys [{}] from the EnvFrom {what} {}/{name} were skipped since they are considered invalid environment variable names.",
                invalid.join(", "),
                self.namespace
            )
        });
        Ok((vars, warning))
    }
}

/// A container's variables from ConfigMaps and Secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigEnv {
    /// From `envFrom`, in order (a later source wins over an earlier one).
    pub from_sources: Variables,
    /// `env` entries that reference a key, by variable name; `None` for an
    /// optional reference to nothing (the variable is left out).
    pub from_refs: BTreeMap<String, Option<String>>,
    /// `InvalidEnvironmentVariableNames` warnings.
    pub warnings: Vec<String>,
}

/// The variables `container` takes from ConfigMaps and Secrets, or the
/// kubelet's message for what is missing.
pub fn config_env(container: &Container, objects: &ConfigObjects) -> Result<ConfigEnv, String> {
    let mut env = ConfigEnv::default();
    for source in &container.env_from {
        let (vars, warning) = objects.env_from(source)?;
        env.from_sources.extend(vars);
        env.warnings.extend(warning);
    }
    for var in &container.env {
        let Some(from) = &var.value_from else {
            continue;
        };
        let value = if let Some(selector) = &from.config_map_key_ref {
            objects.config_map_key(selector)?
        } else if let Some(selector) = &from.secret_key_ref {
            objects.secret_key(selector)?
        } else {
            continue;
        };
        env.from_refs.insert(var.name.clone(), value);
    }
    Ok(env)
}

/// The first container (init containers first) whose configuration is
/// missing, and why: it waits with [`CONFIG_ERROR`].
pub fn missing(pod: &objects::Pod, objects: &ConfigObjects) -> Option<(String, String)> {
    let spec = &pod.spec;
    spec.init_containers
        .iter()
        .chain(&spec.containers)
        .find_map(|container| {
            config_env(container, objects)
                .err()
                .map(|message| (container.name.clone(), message))
        })
}

//! A pod's `/etc/resolv.conf`, from its `dnsPolicy` and `dnsConfig`
//! (Kubernetes: the kubelet's `pkg/kubelet/network/dns`).
//!
//! - `ClusterFirst` (the default): the cluster DNS first, and search
//!   domains that make `web` find `web.<ns>.svc.cluster.local`; `ndots:5`
//!   so that names with up to four dots go through the search list before
//!   they are tried as they are.
//! - `Default`: the node's own resolv.conf (the name is historical).
//! - `None`: only what `dnsConfig` says.
//!
//! `dnsConfig` adds to any policy: its nameservers and searches after the
//! policy's (without repeats), its options over the policy's of the same
//! name.

use std::net::IpAddr;

use objects::Pod;
use serde_json::Value;

/// At most this many nameservers: the C library reads no more (MAXNS).
const MAX_NAMESERVERS: usize = 3;
/// At most this many search domains (the kubelet's limit).
const MAX_SEARCHES: usize = 32;

/// What the node knows of the cluster's DNS (kubelet flags
/// `--cluster-dns` and `--cluster-domain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDns {
    /// `None`: no cluster DNS; `ClusterFirst` pods get the node's resolv.conf.
    pub server: Option<IpAddr>,
    /// `cluster.local`.
    pub domain: String,
}

/// A resolv.conf, parsed: what the C library reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ResolvConf {
    nameservers: Vec<String>,
    searches: Vec<String>,
    /// `ndots:5`, `edns0`: name and optional value.
    options: Vec<(String, Option<String>)>,
}

impl ResolvConf {
    fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => conf.nameservers.extend(words.next().map(str::to_string)),
                // The last search (or domain) line wins, as in the C library.
                Some("search") | Some("domain") => {
                    conf.searches = words.map(str::to_string).collect()
                }
                Some("options") => conf.options.extend(words.map(option)),
                _ => {}
            }
        }
        conf
    }

    fn render(&self) -> String {
        let mut text = String::new();
        for server in self.nameservers.iter().take(MAX_NAMESERVERS) {
            text.push_str(&format!("nameserver {server}\n"));
        }
        if !self.searches.is_empty() {
            let searches: Vec<&str> = self
                .searches
                .iter()
                .take(MAX_SEARCHES)
                .map(String::as_str)
                .collect();
            text.push_str(&format!("search {}\n", searches.join(" ")));
        }
        if !self.options.is_empty() {
            let options: Vec<String> = self
                .options
                .iter()
                .map(|(name, value)| match value {
                    Some(value) => format!("{name}:{value}"),
                    None => name.clone(),
                })
                .collect();
            text.push_str(&format!("options {}\n", options.join(" ")));
        }
        text
    }

    /// Adds `dnsConfig` (a pod's `spec.dnsConfig`) as the kubelet does.
    fn merge(&mut self, config: &Value) {
        let strings = |field: &str| -> Vec<String> {
            config[field]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        for server in strings("nameservers") {
            if !self.nameservers.contains(&server) {
                self.nameservers.push(server);
            }
        }
        for search in strings("searches") {
            if !self.searches.contains(&search) {
                self.searches.push(search);
            }
        }
        for entry in config["options"].as_array().into_iter().flatten() {
            let Some(name) = entry["name"].as_str() else {
                continue;
            };
            let value = entry["value"].as_str().map(str::to_string);
            match self.options.iter_mut().find(|(n, _)| n == name) {
                Some(existing) => existing.1 = value,
                None => self.options.push((name.to_string(), value)),
            }
        }
    }
}

/// `ndots:5` as ("ndots", Some("5")), `edns0` as ("edns0", None).
fn option(word: &str) -> (String, Option<String>) {
    match word.split_once(':') {
        Some((name, value)) => (name.to_string(), Some(value.to_string())),
        None => (word.to_string(), None),
    }
}

/// The resolv.conf of `pod`'s containers, or `None` for the node's own
/// (`host` is its text, read when `dnsConfig` must be added to it).
pub fn resolv_conf(pod: &Pod, cluster: &ClusterDns, host: &str) -> Option<String> {
    let spec = &pod.spec;
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let cluster_first = match policy {
        "None" => false,
        "Default" => false,
        // A pod on the host's network keeps the host's resolver unless
        // it asks for the cluster's with ClusterFirstWithHostNet.
        "ClusterFirstWithHostNet" => true,
        _ => !spec.host_network,
    };
    let mut conf = match (policy, cluster_first, cluster.server) {
        ("None", _, _) => ResolvConf::default(),
        (_, true, Some(server)) => {
            let domain = cluster.domain.trim_end_matches('.');
            let namespace = pod.metadata.namespace();
            ResolvConf {
                nameservers: vec![server.to_string()],
                searches: vec![
                    format!("{namespace}.svc.{domain}"),
                    format!("svc.{domain}"),
                    domain.to_string(),
                ],
                options: vec![("ndots".to_string(), Some("5".to_string()))],
            }
        }
        // Default, or ClusterFirst on a node without a cluster DNS (the
        // kubelet falls back the same way).
        _ => match &spec.dns_config {
            None => return None,
            Some(_) => ResolvConf::parse(host),
        },
    };
    if let Some(config) = &spec.dns_config {
        conf.merge(config);
    }
    Some(conf.render())
}

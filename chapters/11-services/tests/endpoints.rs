//! The endpoints controller: its pure decisions (a pod's conditions, a
//! named targetPort resolved per pod, endpoints grouped into slices and
//! the Endpoints' subsets, the fewest writes from what exists, which
//! Services a change concerns), then the controller itself, run by the
//! chapter 10 runtime against a real API server in this process. No node
//! agent runs: the tests write each pod's address and Ready condition
//! through the status subresource, as an agent would.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apiserver::client::{
    Api, Cache, Change, Client, DeleteParams, Informer, ListParams, ObjectKey, Patch,
};
use apiserver::server::ApiServer;
use chapter_11::services::endpoints::endpoint::{
    conditions, endpoint_ports, is_endpoint, resolve_target_port, unresolved_ports,
};
use chapter_11::services::endpoints::legacy::{desired_endpoints, endpoints_update};
use chapter_11::services::endpoints::slices::{
    EndpointGroup, SlicePlan, group_endpoints, plan_slices,
};
use chapter_11::services::endpoints::triggers::{pod_keys, services_selecting, slice_keys};
use chapter_11::services::endpoints::{self, EndpointsController};
use controllers::controller::{Reconciler, Settings};
use controllers::manager::{self, ControllerManager};
use objects::{EndpointSlice, Endpoints, Event, Pod, Service};
use serde_json::{Value, json};

/// A pod of `app` from JSON fragments (`extra` merged over it), with a
/// fixed uid (pure tests) and one container declaring `ports`.
fn pod(name: &str, app: &str, ports: Value, extra: Value) -> Pod {
    let mut value = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "labels": {"app": app}},
        "spec": {"nodeName": "n1",
                 "containers": [{"name": "app", "image": "k8s-mini/echo", "ports": ports}]},
    });
    testkit::merge_json(&mut value, extra);
    serde_json::from_value(value).unwrap()
}

/// Status fields: an address and the Ready condition.
fn running(ip: &str, ready: bool) -> Value {
    json!({"status": {
        "phase": "Running",
        "podIP": ip,
        "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
    }})
}

fn terminating() -> Value {
    json!({"metadata": {"deletionTimestamp": "2027-01-15T10:00:00Z"}})
}

/// A Service selecting `app` with these ports (JSON), as the API server
/// defaults it (TCP, a ClusterIP).
fn service(name: &str, app: &str, ports: Value) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "labels": {"tier": "front"}},
        "spec": {"selector": {"app": app}, "clusterIP": "10.96.0.20", "ports": ports},
    }))
    .unwrap()
}

fn http_service() -> Service {
    service(
        "web",
        "web",
        json!([
            {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
            {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"},
        ]),
    )
}

fn yaml(value: Value) -> String {
    serde_yaml::to_string(&value).unwrap()
}

// ---------------------------------------------------------------------
// Pure decisions.

#[test]
fn a_pods_conditions_follow_its_readiness_and_its_deletion() {
    let ports = json!([]);
    let cases = [
        ("ready", running("10.244.0.1", true)),
        ("not-ready", running("10.244.0.2", false)),
        (
            "no-condition",
            json!({"status": {"phase": "Pending", "podIP": "10.244.0.3"}}),
        ),
        ("terminating-ready", {
            let mut v = running("10.244.0.4", true);
            testkit::merge_json(&mut v, terminating());
            v
        }),
        ("terminating-not-ready", {
            let mut v = running("10.244.0.5", false);
            testkit::merge_json(&mut v, terminating());
            v
        }),
        ("no-address", json!({"status": {"phase": "Pending"}})),
        ("succeeded", {
            let mut v = running("10.244.0.7", false);
            testkit::merge_json(&mut v, json!({"status": {"phase": "Succeeded"}}));
            v
        }),
        ("failed", {
            let mut v = running("10.244.0.8", false);
            testkit::merge_json(&mut v, json!({"status": {"phase": "Failed"}}));
            v
        }),
        (
            "address-in-pod-ips",
            json!({"status": {"podIPs": [{"ip": "10.244.0.9"}],
            "conditions": [{"type": "Ready", "status": "True"}]}}),
        ),
    ];
    let flag = |value: Option<bool>| match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unset",
    };
    // Conditions only mean something for a pod that is an endpoint.
    let shown = |pod: &Pod, value: Option<bool>| {
        if is_endpoint(pod, true) {
            flag(value)
        } else {
            ""
        }
    };
    let mut lines = vec![
        format!(
            "{:<22} {:<9} {:<9} {:<6} {:<8} {:<12}| with publishNotReadyAddresses",
            "pod", "in slice", "in legacy", "ready", "serving", "terminating"
        ),
        format!("{:<71}| ready  in legacy", ""),
    ];
    for (name, extra) in cases {
        let pod = pod(name, "web", ports.clone(), extra);
        let plain = conditions(&pod, false);
        let published = conditions(&pod, true);
        let yes = |b: bool| flag(Some(b));
        lines.push(format!(
            "{:<22} {:<9} {:<9} {:<6} {:<8} {:<12}| {:<6} {}",
            name,
            yes(is_endpoint(&pod, true)),
            yes(is_endpoint(&pod, false)),
            shown(&pod, plain.ready),
            shown(&pod, plain.serving),
            shown(&pod, plain.terminating),
            shown(&pod, published.ready),
            // Publishing not-ready addresses keeps terminating pods too.
            yes(is_endpoint(&pod, true)),
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_named_target_port_resolves_on_each_pod_by_name_and_protocol() {
    let service = service(
        "dns",
        "dns",
        json!([
            {"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "targetPort": "dns", "protocol": "TCP"},
            {"name": "plain", "port": 80},
            {"name": "number", "port": 81, "targetPort": 8081},
        ]),
    );
    let v1 = pod(
        "v1",
        "dns",
        json!([{"name": "dns", "containerPort": 5353, "protocol": "UDP"},
               {"name": "dns", "containerPort": 5354, "protocol": "TCP"}]),
        json!({}),
    );
    // A second container declares the name; the protocol defaults to TCP.
    let mut v2 = pod("v2", "dns", json!([]), json!({}));
    v2.spec.containers.push(
        serde_json::from_value(
            json!({"name": "side", "ports": [{"name": "dns", "containerPort": 1053}]}),
        )
        .unwrap(),
    );
    let resolved = |pod: &Pod| -> Vec<Option<i32>> {
        service
            .spec
            .ports
            .iter()
            .map(|port| resolve_target_port(pod, port))
            .collect()
    };
    assert_eq!(
        resolved(&v1),
        [Some(5353), Some(5354), Some(80), Some(8081)]
    );
    assert_eq!(resolved(&v2), [None, Some(1053), Some(80), Some(8081)]);
    let names: Vec<String> = endpoint_ports(&service, &v2)
        .iter()
        .map(|p| {
            format!(
                "{}={}/{}",
                p.name.as_deref().unwrap_or("?"),
                p.port.unwrap_or_default(),
                p.protocol.as_deref().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        names,
        ["dns-tcp=1053/TCP", "plain=80/TCP", "number=8081/TCP"]
    );
    // Nobody declares an UDP "dns": the Service is told.
    let unresolved = unresolved_ports(&service, &[&v2]);
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
    insta::assert_snapshot!(unresolved[0].to_string(), @r#"Failed to find port for service: no selected pod declares a UDP container port named "dns" (the targetPort of service port "dns")"#);
    assert!(
        unresolved_ports(&service, &[&v1, &v2]).is_empty(),
        "v1 declares it"
    );
    assert!(
        unresolved_ports(&service, &[]).is_empty(),
        "no pod yet: nothing to say"
    );
}

/// The pods of [`http_service`]: two versions that put `http` on
/// different ports, one that does not declare it, one terminating, one
/// not ready, one without an address, one with a hostname under the
/// Service.
fn mixed_pods() -> Vec<Pod> {
    let v1 = json!([{"name": "http", "containerPort": 8080}]);
    let v2 = json!([{"name": "http", "containerPort": 9090}]);
    vec![
        pod("web-a", "web", v1.clone(), running("10.244.0.10", true)),
        pod("web-b", "web", v1.clone(), running("10.244.0.11", false)),
        pod("web-c", "web", v1.clone(), {
            let mut v = running("10.244.0.12", true);
            testkit::merge_json(&mut v, terminating());
            v
        }),
        pod("web-d", "web", v2.clone(), running("10.244.0.13", true)),
        pod("web-e", "web", json!([]), running("10.244.0.14", true)),
        pod(
            "web-f",
            "web",
            v1.clone(),
            json!({"status": {"phase": "Pending"}}),
        ),
        pod("web-0", "web", v2, {
            let mut v = running("10.244.0.15", true);
            testkit::merge_json(
                &mut v,
                json!({"spec": {"hostname": "web-0", "subdomain": "web"}}),
            );
            v
        }),
    ]
}

#[test]
fn endpoints_are_grouped_by_the_ports_each_pod_serves() {
    let service = http_service();
    let pods = mixed_pods();
    let pods: Vec<&Pod> = pods.iter().collect();
    let groups = group_endpoints(&service, &pods);
    assert_eq!(groups.len(), 3, "8080, 9090, and metrics only");
    let plan = plan_slices(&service, &groups, &[], 100);
    assert!(plan.update.is_empty() && plan.delete.is_empty());
    insta::assert_snapshot!(yaml(json!(plan.create)));
}

#[test]
fn the_legacy_endpoints_hold_ready_and_not_ready_addresses_by_port_set() {
    let service = http_service();
    let pods = mixed_pods();
    let pods: Vec<&Pod> = pods.iter().collect();
    let endpoints = desired_endpoints(&service, &pods);
    insta::assert_snapshot!(yaml(json!(endpoints)));
    // What is written already is not written again; labels count.
    assert_eq!(endpoints_update(&endpoints, &endpoints), None);
    let mut stale = endpoints.clone();
    stale.metadata.resource_version = Some("7".into());
    stale.metadata.labels.remove("tier");
    let updated = endpoints_update(&stale, &endpoints).expect("labels differ");
    assert_eq!(updated.metadata.resource_version.as_deref(), Some("7"));
    assert_eq!(updated.metadata.labels, endpoints.metadata.labels);
    // Publishing not-ready addresses: every pod with an address is
    // ready, terminating ones included.
    let mut publish = service.clone();
    publish.spec.publish_not_ready_addresses = true;
    let all = desired_endpoints(&publish, &pods);
    let ready: Vec<&str> = all
        .subsets
        .iter()
        .flat_map(|s| &s.addresses)
        .map(|a| a.ip.as_str())
        .collect();
    assert_eq!(
        ready,
        // By port set (8080, 9090, metrics only), then by address.
        [
            "10.244.0.10",
            "10.244.0.11",
            "10.244.0.12",
            "10.244.0.13",
            "10.244.0.15",
            "10.244.0.14"
        ]
    );
    assert!(all.subsets.iter().all(|s| s.not_ready_addresses.is_empty()));
}

/// The slices a plan creates, as the server would store them: named
/// `web-s1`, `web-s2`... with a uid and a version.
fn stored(plan: &SlicePlan) -> Vec<EndpointSlice> {
    plan.create
        .iter()
        .enumerate()
        .map(|(i, slice)| {
            let mut slice = slice.clone();
            slice.metadata.name = Some(format!("web-s{}", i + 1));
            slice.metadata.uid = Some(format!("uid-slice-{}", i + 1));
            slice.metadata.resource_version = Some("1".into());
            slice
        })
        .collect()
}

/// `n` ready pods of `web` serving 8080, from `first` on.
fn ready_pods(first: usize, n: usize) -> Vec<Pod> {
    (first..first + n)
        .map(|i| {
            pod(
                &format!("web-{i:03}"),
                "web",
                json!([{"name": "http", "containerPort": 8080}]),
                running(&format!("10.244.{}.{}", i / 250, i % 250 + 1), true),
            )
        })
        .collect()
}

fn groups_of(service: &Service, pods: &[Pod]) -> Vec<EndpointGroup> {
    group_endpoints(service, &pods.iter().collect::<Vec<_>>())
}

/// Per slice: its name and how many endpoints it holds.
fn shape(slices: &[EndpointSlice]) -> Vec<(String, usize)> {
    slices
        .iter()
        .map(|s| (s.metadata.name().to_string(), s.endpoints.len()))
        .collect()
}

#[test]
fn more_than_a_hundred_endpoints_fill_several_slices_and_changes_touch_few() {
    let service = http_service();
    let pods = ready_pods(0, 250);
    let plan = plan_slices(&service, &groups_of(&service, &pods), &[], 100);
    let sizes: Vec<usize> = plan.create.iter().map(|s| s.endpoints.len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let slices = stored(&plan);
    let existing: Vec<&EndpointSlice> = slices.iter().collect();
    // Nothing changed: nothing to write.
    let same = plan_slices(&service, &groups_of(&service, &pods), &existing, 100);
    assert_eq!(same, SlicePlan::default());

    // One pod in the second slice stops being ready: that slice only.
    let mut flipped = pods.clone();
    flipped[150].status =
        serde_json::from_value(running("10.244.0.151", false)["status"].clone()).unwrap();
    let plan = plan_slices(&service, &groups_of(&service, &flipped), &existing, 100);
    assert_eq!(shape(&plan.update), [("web-s2".to_string(), 100)]);
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(
        plan.update[0].metadata.resource_version.as_deref(),
        Some("1")
    );

    // 30 pods of the first slice go, 40 new ones come: the new fill the
    // slice being written anyway, then the one with room; none is created.
    let mut changed: Vec<Pod> = pods[30..].to_vec();
    changed.extend(ready_pods(250, 40));
    let plan = plan_slices(&service, &groups_of(&service, &changed), &existing, 100);
    assert!(plan.create.is_empty() && plan.delete.is_empty(), "{plan:?}");
    assert_eq!(
        shape(&plan.update),
        [("web-s1".to_string(), 100), ("web-s3".to_string(), 60)]
    );
    let moved: Vec<&str> = plan.update[0]
        .endpoints
        .iter()
        .filter_map(|e| e.target_ref.as_ref()?.name.as_deref())
        .filter(|name| *name >= "web-250")
        .collect();
    assert_eq!(moved.len(), 30, "30 new ones fill the first slice");

    // Every pod goes: one slice stays as the empty placeholder (an update,
    // not a delete and a create), the others are deleted.
    let plan = plan_slices(&service, &[], &existing, 100);
    assert!(plan.create.is_empty());
    assert_eq!(shape(&plan.update), [("web-s3".to_string(), 0)]);
    assert!(plan.update[0].ports.is_empty());
    assert_eq!(
        shape(&plan.delete),
        [("web-s2".to_string(), 100), ("web-s1".to_string(), 100)]
    );
}

#[test]
fn slices_of_another_owner_go_and_a_service_without_pods_keeps_a_placeholder() {
    let service = http_service();
    let placeholder = plan_slices(&service, &[], &[], 100);
    assert_eq!(placeholder.create.len(), 1);
    assert!(placeholder.create[0].endpoints.is_empty() && placeholder.create[0].ports.is_empty());
    let placeholder = stored(&placeholder);
    let existing: Vec<&EndpointSlice> = placeholder.iter().collect();
    assert_eq!(
        plan_slices(&service, &[], &existing, 100),
        SlicePlan::default()
    );

    // A slice left by an earlier Service of the same name (another uid)
    // goes; it is not reused, the garbage collector may be deleting it.
    let mut old = placeholder[0].clone();
    old.metadata.owner_references[0].uid = "uid-of-an-earlier-web".into();
    let pods = ready_pods(0, 2);
    let plan = plan_slices(&service, &groups_of(&service, &pods), &[&old], 100);
    assert_eq!(plan.create.len(), 1);
    assert!(plan.update.is_empty());
    assert_eq!(shape(&plan.delete), [("web-s1".to_string(), 0)]);

    // Our placeholder becomes the slice of the first pods (an update).
    let plan = plan_slices(&service, &groups_of(&service, &pods), &existing, 100);
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(shape(&plan.update), [("web-s1".to_string(), 2)]);
    assert_eq!(plan.update[0].ports.len(), 2);

    // The Service's labels changed: the slice's follow.
    let mut relabelled = service.clone();
    relabelled
        .metadata
        .labels
        .insert("tier".into(), "back".into());
    let plan = plan_slices(&relabelled, &[], &existing, 100);
    assert_eq!(shape(&plan.update), [("web-s1".to_string(), 0)]);
    assert_eq!(plan.update[0].metadata.labels["tier"], "back");
}

#[test]
fn pod_changes_reach_the_services_that_select_them_before_or_after() {
    let mut other_namespace = service("web-elsewhere", "web", json!([{"port": 80}]));
    other_namespace.metadata.namespace = Some("other".into());
    let mut no_selector = service("manual", "web", json!([{"port": 80}]));
    no_selector.spec.selector.clear();
    let mut external = service("alias", "web", json!([{"port": 80}]));
    external.spec.service_type = Some("ExternalName".into());
    let services = [
        service("web", "web", json!([{"port": 80}])),
        service("db", "db", json!([{"port": 5432}])),
        other_namespace,
        no_selector,
        external,
    ];
    let refs: Vec<&Service> = services.iter().collect();
    let names =
        |keys: Vec<ObjectKey>| -> Vec<String> { keys.into_iter().map(|k| k.to_string()).collect() };
    let web = pod("p", "web", json!([]), json!({}));
    let db = pod("p", "db", json!([]), json!({}));
    let cache = pod("p", "cache", json!([]), json!({}));
    assert_eq!(names(services_selecting(&[&web], &refs)), ["default/web"]);
    assert_eq!(
        names(services_selecting(&[&cache], &refs)),
        Vec::<String>::new()
    );
    assert_eq!(
        names(services_selecting(&[&web, &db], &refs)),
        ["default/db", "default/web"]
    );

    let services_cache: Cache<Service> = Cache::new();
    let _ = services_cache.replace(services.to_vec());
    let relabelled = Change::Updated {
        old: Arc::new(web.clone()),
        new: Arc::new(db.clone()),
    };
    assert_eq!(
        names(pod_keys(&relabelled, &services_cache)),
        ["default/db", "default/web"]
    );
    assert_eq!(
        names(pod_keys(&Change::Deleted(Arc::new(web)), &services_cache)),
        ["default/web"]
    );
    assert!(pod_keys(&Change::Added(Arc::new(cache)), &services_cache).is_empty());

    // Slices: ours lead to their Service, others' to nothing.
    let ours = stored(&plan_slices(&http_service(), &[], &[], 100)).remove(0);
    assert_eq!(
        names(slice_keys(&Change::Deleted(Arc::new(ours.clone())))),
        ["default/web"]
    );
    let mut theirs = ours;
    theirs.metadata.labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        "k8s-mini-dns".into(),
    );
    assert!(slice_keys(&Change::Added(Arc::new(theirs))).is_empty());
}

// ---------------------------------------------------------------------
// Against an API server, run by the chapter 10 runtime.

struct Cluster {
    _server: ApiServer,
    client: Client,
    manager: Option<ControllerManager>,
}

/// How long a test waits for the controller to catch up before failing.
const PATIENCE: Duration = Duration::from_secs(20);

impl Cluster {
    /// A server, and the controller-manager running the endpoints
    /// controller only (with `max` endpoints a slice).
    async fn start(max: usize) -> Cluster {
        let server = chapter_11::start_server().await;
        let client = Client::new(&server.url()).unwrap();
        let config = manager::Config {
            leader_election: None,
            settings: Settings::default(),
            controllers: vec![endpoints::registration(endpoints::Config {
                max_endpoints_per_slice: max,
            })],
        };
        let manager = ControllerManager::start(client.clone(), config)
            .await
            .expect("the controller-manager starts");
        Cluster {
            _server: server,
            client,
            manager: Some(manager),
        }
    }

    async fn stop(mut self) {
        if let Some(manager) = self.manager.take() {
            manager.stop(Duration::from_secs(5)).await;
        }
    }

    fn api<K: objects::Resource>(&self) -> Api<K> {
        Api::namespaced(&self.client, "default")
    }

    async fn create_service(&self, service: &Service) -> Service {
        let mut service = service.clone();
        service.metadata.uid = None;
        // The server's to allocate (or none: headless).
        service.spec.cluster_ip = None;
        self.api::<Service>()
            .create(&service)
            .await
            .expect("the service is created")
    }

    /// Creates `pod` (already on node n1), then writes its status as its
    /// node agent would.
    async fn create_pod(&self, pod: &Pod) {
        let mut pod = pod.clone();
        pod.metadata.uid = None;
        let status = serde_json::to_value(&pod.status).unwrap();
        pod.status = Default::default();
        self.api::<Pod>()
            .create(&pod)
            .await
            .expect("the pod is created");
        if status != json!({}) {
            self.set_status(pod.metadata.name(), json!({ "status": status }))
                .await;
        }
    }

    async fn set_status(&self, pod: &str, status: Value) {
        self.api::<Pod>()
            .patch_status(pod, &Patch::Merge(status))
            .await
            .expect("status written");
    }

    async fn slices(&self, service: &str) -> Vec<EndpointSlice> {
        let selector = format!("kubernetes.io/service-name={service}");
        let mut slices = self
            .api::<EndpointSlice>()
            .list(&ListParams::default().labels(&selector))
            .await
            .unwrap()
            .items;
        slices.sort_by(|a, b| {
            a.ports
                .len()
                .cmp(&b.ports.len())
                .then_with(|| summary_ports(a).cmp(&summary_ports(b)))
        });
        slices
    }

    async fn endpoints(&self, service: &str) -> Option<Endpoints> {
        self.api::<Endpoints>().get_opt(service).await.unwrap()
    }

    /// Polls (bounded) until `done` holds for `service`'s slices and
    /// Endpoints; returns their summary then.
    async fn wait_for(&self, service: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.summary(service).await;
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{service}: not {what} after {PATIENCE:?}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The slices and Endpoints of `service` as readable text: names,
    /// uids and versions left out.
    async fn summary(&self, service: &str) -> String {
        let mut text = String::new();
        for slice in self.slices(service).await {
            text += &format!(
                "slice {} ports [{}]\n",
                slice_name(&slice, service),
                summary_ports(&slice)
            );
            for endpoint in &slice.endpoints {
                let c = &endpoint.conditions;
                text += &format!(
                    "  {} {} ready={} serving={} terminating={}\n",
                    endpoint
                        .target_ref
                        .as_ref()
                        .and_then(|r| r.name.clone())
                        .unwrap_or_default(),
                    endpoint.addresses.join(","),
                    c.ready.unwrap_or_default(),
                    c.serving.unwrap_or_default(),
                    c.terminating.unwrap_or_default(),
                );
            }
        }
        match self.endpoints(service).await {
            None => text += "no endpoints\n",
            Some(endpoints) => {
                text += "endpoints\n";
                for subset in &endpoints.subsets {
                    let ports: Vec<String> = subset
                        .ports
                        .iter()
                        .map(|p| format!("{}={}", p.name.as_deref().unwrap_or(""), p.port))
                        .collect();
                    let ips = |list: &[objects::service::EndpointAddress]| -> String {
                        list.iter()
                            .map(|a| a.ip.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    };
                    text += &format!(
                        "  ports [{}] ready [{}] not ready [{}]\n",
                        ports.join(" "),
                        ips(&subset.addresses),
                        ips(&subset.not_ready_addresses)
                    );
                }
            }
        }
        text
    }

    /// The events about `name`: `type reason message (xcount)`.
    async fn events(&self, name: &str) -> Vec<String> {
        let mut lines: Vec<String> = self
            .api::<Event>()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .map(|e| {
                format!(
                    "{} {} {} (x{})",
                    e.event_type.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.message.unwrap_or_default(),
                    e.count.unwrap_or(1)
                )
            })
            .collect();
        lines.sort();
        lines
    }
}

/// `web-x2x8k` → `web-<random>` (the server's generateName).
fn slice_name(slice: &EndpointSlice, service: &str) -> String {
    let name = slice.metadata.name();
    match name.strip_prefix(&format!("{service}-")) {
        Some(random) if random.len() == 5 => format!("{service}-<random>"),
        _ => name.to_string(),
    }
}

fn summary_ports(slice: &EndpointSlice) -> String {
    slice
        .ports
        .iter()
        .map(|p| {
            format!(
                "{}={}/{}",
                p.name.as_deref().unwrap_or(""),
                p.port.unwrap_or_default(),
                p.protocol.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Endpoints part of a summary.
fn legacy_part(summary: &str) -> &str {
    summary
        .split_once("endpoints\n")
        .map_or("", |(_, rest)| rest)
}

fn simple_service() -> Service {
    service(
        "web",
        "web",
        json!([{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]),
    )
}

fn web_pod(name: &str, status: Value) -> Pod {
    pod(
        name,
        "web",
        json!([{"name": "http", "containerPort": 8080}]),
        status,
    )
}

#[tokio::test]
async fn pods_join_flip_readiness_terminate_and_leave() {
    let cluster = Cluster::start(100).await;
    cluster.create_service(&simple_service()).await;
    let mut story = String::new();
    story += "# a service, no pod: an empty placeholder slice, empty Endpoints\n";
    story += &cluster
        .wait_for("web", "published", |t| {
            t.contains("ports []") && t.contains("endpoints")
        })
        .await;

    cluster.create_pod(&web_pod("web-1", json!({}))).await;
    cluster
        .create_pod(&web_pod("web-2", running("10.244.0.2", true)))
        .await;
    story += "# web-2 ready; web-1 without an address is no endpoint yet\n";
    story += &cluster
        .wait_for("web", "web-2", |t| {
            t.contains("web-2 10.244.0.2 ready=true")
                && legacy_part(t).contains("ready [10.244.0.2]")
        })
        .await;

    cluster
        .set_status("web-1", running("10.244.0.1", false))
        .await;
    story += "# web-1 got an address, not ready\n";
    story += &cluster
        .wait_for("web", "web-1", |t| {
            t.contains("web-1 10.244.0.1 ready=false")
                && legacy_part(t).contains("not ready [10.244.0.1]")
        })
        .await;

    cluster
        .set_status("web-1", running("10.244.0.1", true))
        .await;
    story += "# web-1 ready\n";
    story += &cluster
        .wait_for("web", "web-1 ready", |t| {
            t.contains("web-1 10.244.0.1 ready=true")
                && legacy_part(t).contains("ready [10.244.0.1,10.244.0.2]")
        })
        .await;

    cluster
        .api::<Pod>()
        .delete("web-2", &DeleteParams::default())
        .await
        .unwrap();
    story +=
        "# web-2 deleted: terminating in its grace period (serving, not ready), out of Endpoints\n";
    story += &cluster
        .wait_for("web", "web-2 terminating", |t| {
            t.contains("terminating=true") && !legacy_part(t).contains("10.244.0.2")
        })
        .await;

    cluster
        .api::<Pod>()
        .delete("web-2", &DeleteParams::now())
        .await
        .unwrap();
    story += "# web-2 gone\n";
    story += &cluster
        .wait_for("web", "web-2 gone", |t| !t.contains("web-2"))
        .await;
    insta::assert_snapshot!(story);
    assert_eq!(cluster.slices("web").await.len(), 1, "one slice all along");
    cluster.stop().await;
}

#[tokio::test]
async fn a_changed_selector_moves_the_endpoints_and_a_removed_one_removes_our_slices() {
    let cluster = Cluster::start(100).await;
    let service = cluster.create_service(&simple_service()).await;
    cluster
        .create_pod(&web_pod("web-1", running("10.244.0.1", true)))
        .await;
    cluster
        .create_pod(&pod(
            "canary-1",
            "canary",
            json!([{"name": "http", "containerPort": 8080}]),
            running("10.244.0.9", true),
        ))
        .await;
    cluster
        .wait_for("web", "web-1", |t| t.contains("web-1"))
        .await;
    // Someone else's slice for the same Service (as the DNS writes its
    // own): never touched.
    let mut theirs = plan_slices(&service, &[], &[], 100).create.remove(0);
    theirs.metadata.generate_name = None;
    theirs.metadata.name = Some("web-by-hand".into());
    theirs.metadata.owner_references.clear();
    theirs.metadata.labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        "someone-else".into(),
    );
    cluster
        .api::<EndpointSlice>()
        .create(&theirs)
        .await
        .unwrap();

    let patch = Patch::Merge(json!({"spec": {"selector": {"app": "canary"}}}));
    cluster.api::<Service>().patch("web", &patch).await.unwrap();
    let moved = cluster
        .wait_for("web", "moved", |t| {
            t.contains("canary-1")
                && !t.contains("web-1 ")
                && legacy_part(t).contains("ready [10.244.0.9]")
        })
        .await;
    insta::assert_snapshot!(moved);

    let patch = Patch::Merge(json!({"spec": {"selector": null}}));
    cluster.api::<Service>().patch("web", &patch).await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let names: Vec<String> = cluster
            .slices("web")
            .await
            .iter()
            .map(|s| s.metadata.name().to_string())
            .collect();
        if names == ["web-by-hand"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "our slices are still there: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The Endpoints stay as they were, as Kubernetes leaves them: without
    // a selector, whoever made the Service writes them.
    assert!(cluster.endpoints("web").await.is_some());
    cluster.stop().await;
}

#[tokio::test]
async fn a_named_target_port_resolves_per_pod_and_a_name_nobody_declares_is_told_once() {
    let cluster = Cluster::start(100).await;
    let service = service(
        "web",
        "web",
        json!([{"name": "http", "port": 80, "targetPort": "http"},
               {"name": "admin", "port": 81, "targetPort": "admin"}]),
    );
    cluster.create_service(&service).await;
    let v1 = json!([{"name": "http", "containerPort": 8080}]);
    let v2 = json!([{"name": "http", "containerPort": 9090}]);
    cluster
        .create_pod(&pod("web-v1", "web", v1, running("10.244.0.1", true)))
        .await;
    cluster
        .create_pod(&pod("web-v2", "web", v2, running("10.244.0.2", false)))
        .await;
    let text = cluster
        .wait_for("web", "both versions", |t| {
            t.contains("web-v1")
                && t.contains("web-v2")
                && legacy_part(t).contains("ready [10.244.0.1]")
                && legacy_part(t).contains("not ready [10.244.0.2]")
        })
        .await;
    insta::assert_snapshot!(text);
    let warned = vec![
        "Warning FailedToFindPort Failed to find port for service: no selected pod declares a TCP container port named \"admin\" (the targetPort of service port \"admin\") (x1)".to_string(),
    ];
    assert_eq!(cluster.events("web").await, warned);
    // More reconciles (a readiness flip each) tell it no more.
    for ready in [true, false, true] {
        cluster
            .set_status("web-v2", running("10.244.0.2", ready))
            .await;
        cluster
            .wait_for("web", "flipped", |t| {
                let (listed, unlisted) = if ready {
                    ("ready", "not ready")
                } else {
                    ("not ready", "ready")
                };
                t.contains(&format!("web-v2 10.244.0.2 ready={ready}"))
                    && legacy_part(t).contains(&format!("] {listed} [10.244.0.2]"))
                    && !legacy_part(t).contains(&format!("] {unlisted} [10.244.0.2]"))
            })
            .await;
    }
    assert_eq!(cluster.events("web").await, warned);
    cluster.stop().await;
}

#[tokio::test]
async fn a_slice_deleted_by_hand_comes_back() {
    let cluster = Cluster::start(100).await;
    cluster.create_service(&simple_service()).await;
    cluster
        .create_pod(&web_pod("web-1", running("10.244.0.1", true)))
        .await;
    let before = cluster
        .wait_for("web", "web-1", |t| {
            t.contains("web-1") && legacy_part(t).contains("ready [10.244.0.1]")
        })
        .await;
    let slice = cluster.slices("web").await.remove(0);
    cluster
        .api::<EndpointSlice>()
        .delete(slice.metadata.name(), &DeleteParams::default())
        .await
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let slices = cluster.slices("web").await;
        if slices.len() == 1 && slices[0].metadata.name() != slice.metadata.name() {
            break;
        }
        assert!(Instant::now() < deadline, "not rebuilt: {slices:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(cluster.summary("web").await, before);
    cluster.stop().await;
}

#[tokio::test]
async fn a_hundred_and_fifty_pods_split_into_two_slices() {
    let cluster = Cluster::start(100).await;
    cluster.create_service(&simple_service()).await;
    for pod in ready_pods(0, 150) {
        cluster.create_pod(&pod).await;
    }
    cluster
        .wait_for("web", "all listed", |t| {
            t.matches("ready=true").count() == 150
        })
        .await;
    let slices = cluster.slices("web").await;
    let mut sizes: Vec<usize> = slices.iter().map(|s| s.endpoints.len()).collect();
    sizes.sort();
    assert_eq!(sizes, [50, 100]);
    let mut pods: Vec<String> = slices
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter_map(|e| e.target_ref.as_ref()?.name.clone())
        .collect();
    pods.sort();
    pods.dedup();
    assert_eq!(pods.len(), 150, "each pod once");
    let endpoints = cluster.endpoints("web").await.unwrap();
    assert_eq!(endpoints.subsets.len(), 1);
    assert_eq!(endpoints.subsets[0].addresses.len(), 150);
    cluster.stop().await;
}

#[tokio::test]
async fn a_deleted_service_takes_its_slices_and_endpoints_along() {
    let cluster = Cluster::start(100).await;
    cluster.create_service(&simple_service()).await;
    cluster
        .create_pod(&web_pod("web-1", running("10.244.0.1", true)))
        .await;
    cluster
        .wait_for("web", "published", |t| {
            t.contains("web-1") && legacy_part(t).contains("ready [10.244.0.1]")
        })
        .await;
    cluster
        .api::<Service>()
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    cluster
        .wait_for("web", "gone", |t| t == "no endpoints\n")
        .await;
    cluster.stop().await;
}

#[tokio::test]
async fn a_lagging_cache_does_not_make_a_second_slice() {
    let server = chapter_11::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let all = ListParams::default();
    // Slice and Endpoints caches that never see anything: the worst of lags.
    let blind = ListParams::default().labels("seen=never");
    let services = Informer::<Service>::new(Api::all(&client), all.clone());
    let pods = Informer::<Pod>::new(Api::all(&client), all);
    let slices = Informer::<EndpointSlice>::new(Api::all(&client), blind.clone());
    let endpoints = Informer::<Endpoints>::new(Api::all(&client), blind);
    let controller = EndpointsController::new(
        &client,
        &services,
        &pods,
        &slices,
        &endpoints,
        endpoints::Config::default(),
    );
    let mut service = simple_service();
    service.metadata.uid = None;
    service.spec.cluster_ip = None;
    Api::<Service>::namespaced(&client, "default")
        .create(&service)
        .await
        .unwrap();
    let pod_api: Api<Pod> = Api::namespaced(&client, "default");
    let mut web = web_pod("web-1", json!({}));
    web.metadata.uid = None;
    pod_api.create(&web).await.unwrap();
    pod_api
        .patch_status("web-1", &Patch::Merge(running("10.244.0.1", true)))
        .await
        .unwrap();
    let key = ObjectKey {
        namespace: "default".into(),
        name: "web".into(),
    };
    // Until the caches hold the service and the ready pod.
    let deadline = Instant::now() + PATIENCE;
    let filled = || {
        let pod_ready = pods
            .cache()
            .get("default", "web-1")
            .is_some_and(|p| p.status.pod_ip.is_some());
        pod_ready && services.cache().get("default", "web").is_some()
    };
    while !filled() {
        assert!(Instant::now() < deadline, "the caches never filled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..3 {
        let _ = controller.reconcile(&key).await.expect("reconciled");
    }
    let listed = Api::<EndpointSlice>::namespaced(&client, "default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let names: Vec<&str> = listed.iter().map(|s| s.metadata.name()).collect();
    assert_eq!(names.len(), 1, "created again: {names:?}");
    assert_eq!(listed[0].endpoints.len(), 1);
    let endpoints_listed = Api::<Endpoints>::namespaced(&client, "default")
        .get("web")
        .await
        .unwrap();
    assert_eq!(endpoints_listed.subsets[0].addresses[0].ip, "10.244.0.1");
    drop(server);
}

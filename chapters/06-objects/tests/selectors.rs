//! Label selectors (strings and objects) and field selectors.
//! Holes exercised: `Requirement::matches` and `Parser::requirement`
//! (src/labels.rs).

use chapter_06::objects::fields::FieldSelector;
use chapter_06::objects::manifest::decode_yaml;
use chapter_06::objects::meta::StringMap;
use chapter_06::objects::resource::{DEPLOYMENT, EVENT, NODE, POD};
use chapter_06::objects::{LabelSelector, Pod, Resource, Selector, Status};
use insta::{assert_snapshot, with_settings};
use std::fmt::Write;

fn labels(text: &str) -> StringMap {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

const PODS: [&str; 5] = [
    "app=web,tier=frontend,env=prod",
    "app=web,tier=backend",
    "app=api,env=staging,canary=",
    "app=web,env=",
    "",
];

#[test]
fn selectors_match_labels() {
    let selectors = [
        "app=web",
        "app==web,tier=frontend",
        "app!=web",
        "env!=prod",
        "env=",
        "tier in (frontend, backend)",
        "env notin (prod,staging)",
        "canary",
        "!canary",
        "!env,app",
        "",
    ];
    let mut out = String::new();
    writeln!(
        out,
        "{:<30} | {}",
        "selector \\ pod labels",
        PODS.iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    for text in selectors {
        let selector = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let row: Vec<String> = PODS
            .iter()
            .map(|pod| {
                let mark = if selector.matches(&labels(pod)) {
                    "yes"
                } else {
                    "-"
                };
                format!("{mark:^width$}", width = pod.len() + 2)
            })
            .collect();
        writeln!(out, "{:<30} | {}", format!("{text:?}"), row.join(" ")).unwrap();
    }
    with_settings!({ description => "Selector::parse(selector).matches(labels): != and notin match pods without the key", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn selectors_parse_to_requirements() {
    let cases = [
        "app=web",
        " app = web , tier in ( a , b ) ",
        "app==web",
        "app!=web",
        "app in (web)",
        "app notin (web,api)",
        "app",
        "!app",
        "app=",
        "app.kubernetes.io/name=web",
        "x in (a,),y",
    ];
    let mut out = String::new();
    for text in cases {
        let selector = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let requirements: Vec<String> = selector
            .requirements()
            .iter()
            .map(|r| format!("{} {:?} {:?}", r.key, r.operator, r.values))
            .collect();
        writeln!(
            out,
            "{text:?}\n  => {selector}\n  => [{}]",
            requirements.join("; ")
        )
        .unwrap();
    }
    with_settings!({ description => "Selector::parse(text), printed back and as requirements (key, operator, values)", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn bad_selectors_say_what_and_where() {
    let cases = [
        "app=web,",
        "=web",
        "app in web",
        "app in (web",
        "app in ()",
        "app notin",
        "app=web=api",
        "app web",
        "!app=web",
        "app>3",
        "Bad Key=x",
        "app=-web",
        "app=(web)",
    ];
    let mut out = String::new();
    for text in cases {
        match Selector::parse(text) {
            Ok(selector) => panic!("{text:?} should not parse, got {selector}"),
            Err(error) => writeln!(out, "{text:?}: {error}").unwrap(),
        }
    }
    with_settings!({ description => "Selector::parse(text) errors", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn label_selector_objects_become_selectors() {
    let selector: LabelSelector = decode_yaml(
        "matchLabels: {app: web}\nmatchExpressions:\n- {key: tier, operator: In, values: [frontend, backend]}\n- {key: env, operator: NotIn, values: [prod]}\n- {key: canary, operator: DoesNotExist}\n- {key: app, operator: Exists}\n",
    )
    .unwrap()
    .object;
    let selector = Selector::from_label_selector(&selector).unwrap();
    assert_eq!(
        selector.to_string(),
        "app=web,app,!canary,env notin (prod),tier in (backend,frontend)"
    );
    let matched: Vec<&str> = PODS
        .iter()
        .copied()
        .filter(|p| selector.matches(&labels(p)))
        .collect();
    assert_eq!(matched, vec!["app=web,tier=backend"]);
    assert!(
        Selector::from_label_selector(&LabelSelector::default())
            .unwrap()
            .matches(&labels("a=b"))
    );

    let bad: LabelSelector = decode_yaml("matchExpressions:\n- {key: tier, operator: In}\n")
        .unwrap()
        .object;
    let error = Selector::from_label_selector(&bad).unwrap_err();
    assert!(
        error.message.contains("values set can't be empty"),
        "{error}"
    );
    let bad: LabelSelector = decode_yaml("matchExpressions:\n- {key: tier, operator: Maybe}\n")
        .unwrap()
        .object;
    assert!(Selector::from_label_selector(&bad).is_err());
}

#[test]
fn field_selectors_match_pods_and_reject_unknown_fields() {
    let pods: Vec<Pod> = [
        "metadata: {name: a, namespace: shop}\nspec: {nodeName: node-1, restartPolicy: Always}\nstatus: {phase: Running, podIP: 10.244.1.2}\n",
        "metadata: {name: b, namespace: shop}\nspec: {restartPolicy: Never}\nstatus: {phase: Pending}\n",
        "metadata: {name: c, namespace: kube-system}\nspec: {nodeName: node-2, restartPolicy: Always}\nstatus: {phase: Failed}\n",
    ]
    .iter()
    .map(|yaml| decode_yaml::<Pod>(yaml).unwrap().object)
    .collect();
    let selectors = [
        "spec.nodeName=node-1",
        "spec.nodeName=",
        "spec.nodeName!=",
        "status.phase!=Failed,status.phase!=Succeeded",
        "metadata.namespace==shop,spec.restartPolicy=Always",
        "status.podIP=10.244.1.2",
        "metadata.name=b",
        "",
    ];
    let mut out = String::new();
    for text in selectors {
        let selector = FieldSelector::parse(text).unwrap();
        selector.check(&POD.clone()).unwrap();
        let matched: Vec<&str> = pods
            .iter()
            .filter(|pod| selector.matches(|field| pod.field_value(field)))
            .map(|pod| pod.metadata.name())
            .collect();
        writeln!(out, "{text:?} => {matched:?}").unwrap();
    }
    writeln!(out).unwrap();
    let checks = [
        (POD, "spec.containers=web"),
        (POD, "spec.nodeName=a,spec.hostname=b"),
        (DEPLOYMENT, "spec.replicas=3"),
        (DEPLOYMENT, "metadata.name=web"),
        (NODE, "spec.unschedulable=true"),
        (
            EVENT,
            "involvedObject.name=web,involvedObject.kind=Pod,reason=BackOff",
        ),
    ];
    for (info, text) in checks {
        let verdict = match FieldSelector::parse(text).unwrap().check(&info) {
            Ok(()) => "supported".to_string(),
            Err(error) => format!(
                "400 {}",
                Status::bad_request(error.to_string()).message.unwrap()
            ),
        };
        writeln!(out, "{} {text:?}: {verdict}", info.plural).unwrap();
    }
    for text in ["spec.nodeName", "=x", "a=b=c"] {
        writeln!(out, "{text:?}: {}", FieldSelector::parse(text).unwrap_err()).unwrap();
    }
    with_settings!({ description => "FieldSelector: which pods (a on node-1 Running, b unscheduled Pending, c on node-2 Failed) match, and which fields each kind supports", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

//! The Status objects the API server answers errors with.
//! No hole: these pin down the exact wording clients and people rely on.

use chapter_06::json;
use chapter_06::objects::meta::ObjectMeta;
use chapter_06::objects::resource::{DEPLOYMENT, POD};
use chapter_06::objects::{List, ListMeta, Pod, Scale, Status, WatchEvent, WatchEventType};
use insta::{assert_snapshot, with_settings};

#[test]
fn standard_errors_use_kubernetes_messages_reasons_and_codes() {
    let statuses = [
        Status::not_found(&POD, "web"),
        Status::already_exists(&DEPLOYMENT, "web"),
        Status::conflict(&DEPLOYMENT, "web"),
        Status::bad_request("invalid field selector"),
        Status::expired("too old resource version: 5 (1042)"),
        Status::method_not_allowed(),
        Status::unsupported_media_type(&["application/json", "application/merge-patch+json"]),
        Status::request_entity_too_large(3_145_728),
    ];
    let lines: Vec<String> = statuses
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    with_settings!({ description => "Status constructors, as JSON", omit_expression => true }, {
        assert_snapshot!(lines.join("\n"));
    });
}

#[test]
fn lists_watch_events_and_scales_have_their_required_fields() {
    let empty: List<Pod> = List {
        api_version: "v1".into(),
        kind: POD.list_kind(),
        metadata: ListMeta {
            resource_version: Some("1042".into()),
            ..ListMeta::default()
        },
        items: Vec::new(),
    };
    let bookmark = WatchEvent {
        event_type: WatchEventType::Bookmark,
        object: serde_json::json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "1043"}}),
    };
    let scale = Scale::new(ObjectMeta::named("web"), 3, 0, "app=web".into());
    let out = [
        json(&empty),
        serde_json::to_string(&bookmark).unwrap(),
        json(&scale),
    ]
    .join("\n");
    with_settings!({ description => "an empty PodList (items: []), a BOOKMARK watch event, a Scale with status.replicas 0", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

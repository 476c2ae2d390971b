// Generated from solutions/07-apiserver/src/server/admission.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Admission: what the server adds to an object on its way in, after
//! defaults and before validation. Kubernetes runs a chain of admission
//! plugins here; k8s-mini has the one its controllers rely on:
//! DefaultTolerationSeconds, which lets every pod stay 300 s on a node
//! that stopped answering (or is not ready) before it is evicted, so that
//! a short network blip does not reschedule a whole node's pods.

use objects::Object;
use objects::pod::Toleration;

/// The taints the node lifecycle controller puts on a node that is not
/// ready, or whose agent stopped reporting.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// How long a pod tolerates either, unless it says otherwise.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// Admits a new object: a pod gets the default tolerations it lacks.
pub fn admit_create(object: &mut Object) {
    if let Object::Pod(pod) = object {
        for key in [NOT_READY, UNREACHABLE] {
            // As the plugin: any NoExecute (or any-effect) toleration of
            // this key, or of every key, counts.
            let covered = pod.spec.tolerations.iter().any(|toleration| {
                toleration
                    .key
                    .as_deref()
                    .is_none_or(|k| k.is_empty() || k == key)
                    && toleration
                        .effect
                        .as_deref()
                        .is_none_or(|e| e.is_empty() || e == "NoExecute")
            });
            if !covered {
                pod.spec.tolerations.push(Toleration {
                    key: Some(key.into()),
                    operator: Some("Exists".into()),
                    value: None,
                    effect: Some("NoExecute".into()),
                    toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                });
            }
        }
    }
}

// Generated from solutions/09-scheduler/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Chapter 09: the scheduler.
//!
//! A pod created through the API has no node: `spec.nodeName` is empty.
//! The scheduler watches such pods, picks a node for each and writes the
//! choice back through the pod's `binding` subresource; the node's agent
//! (chapter 08) then sees a pod bound to it and runs it. Picking is two
//! steps over a snapshot of the cluster taken at the start of each
//! scheduling cycle, as kube-scheduler's framework does:
//!
//! - [`filter`]: which nodes *can* run the pod (Ready and schedulable,
//!   taints tolerated, node selector and required node affinity, free host
//!   ports, enough cpu, memory and pod slots) and, for the others, why not;
//! - [`score`]: which of those it *should* run on (least allocated,
//!   balanced allocation, spreading the pods of one owner, fewest
//!   untolerated PreferNoSchedule taints), each 0–100 and weighted.
//!
//! Around them: [`resources`] (what a pod requests), [`node_info`] (a
//! node and the pods on it, the snapshot's unit), [`taints`] and
//! [`affinity`] (the matching rules), [`message`] (the FailedScheduling
//! text, in Kubernetes' words), [`queue`] (active, back-off and
//! unschedulable pods), [`algorithm`] (one scheduling decision, pure) and
//! [`scheduler`] (the async driver: informers, binding, status, events).

pub mod affinity;
pub mod algorithm;
pub mod events;
pub mod filter;
pub mod message;
pub mod node_info;
pub mod queue;
pub mod resources;
pub mod rng;
pub mod scheduler;
pub mod score;
pub mod taints;

pub use algorithm::{Decision, FitError, schedule};
pub use filter::Unfit;
pub use node_info::{NodeInfo, Snapshot};
pub use queue::SchedulingQueue;
pub use resources::Resources;
pub use rng::Rng;
pub use scheduler::{Config, Scheduler, StartError};
pub use score::{ScorePlugin, default_plugins};

/// The scheduler name pods get when they name none.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

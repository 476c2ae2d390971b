//! Chapter 06: the API objects.
//!
//! Kubernetes is a database of *objects* (Pods, Deployments, Services...)
//! and a crowd of controllers that each make the world look like some of
//! those objects say. This crate is the shared vocabulary: the types on the
//! Kubernetes wire format (so that `kubectl` and the official clients read
//! and write them), the manifests users write, and what the API server does
//! to an object before storing it: default it, validate it, and find it
//! again by label or field selectors.
//!
//! - [`meta`], [`time`], [`intstr`], [`quantity`]: the building blocks every
//!   kind shares (`metadata`, timestamps, `25%` or `8080`, `128Mi`).
//! - [`pod`], [`node`], [`namespace`], [`service`], [`event`], [`config`]
//!   (ConfigMaps and Secrets) (`v1`) and
//!   [`apps`] (`apps/v1`) and [`lease`]
//!   (`coordination.k8s.io/v1`): the kinds.
//! - [`manifest`]: YAML and JSON in, with precise errors and unknown fields.
//! - [`defaults`] and [`validation`] (with [`field`] paths and [`names`]).
//! - [`labels`] and [`fields`]: selectors.
//! - [`resource`]: the generic layer (kind descriptions, the [`Resource`]
//!   trait, [`Object`]), [`status`] for API errors and [`table`] for the
//!   tables `kubectl get` shows; [`patch`] for merge and strategic merge
//!   patches.

pub mod apps;
pub mod config;
pub mod defaults;
pub mod discovery;
pub mod event;
pub mod field;
pub mod fields;
pub mod intstr;
pub mod labels;
pub mod lease;
pub mod manifest;
pub mod meta;
pub mod names;
pub mod namespace;
pub mod node;
pub mod object_ref;
pub mod patch;
pub mod pod;
pub mod quantity;
pub mod resource;
pub mod service;
pub mod status;
pub mod table;
pub mod time;
pub mod validation;

pub use apps::{Deployment, ReplicaSet};
pub use config::{ByteString, ConfigMap, Secret};
pub use discovery::EndpointSlice;
pub use event::Event;
pub use field::{ErrorList, FieldError, Path};
pub use fields::FieldSelector;
pub use intstr::IntOrString;
pub use labels::Selector;
pub use lease::Lease;
pub use manifest::{DecodeError, Decoded, Manifest, ManifestError, parse_manifests};
pub use meta::{
    LabelSelector, List, ListMeta, ObjectMeta, OwnerReference, Scale, Table, WatchEvent,
    WatchEventType,
};
pub use namespace::Namespace;
pub use node::Node;
pub use object_ref::ObjectReference;
pub use pod::{Container, Pod, PodSpec, PodTemplateSpec};
pub use quantity::Quantity;
pub use resource::{
    IntoObject, Object, RESOURCES, Resource, ResourceInfo, find_kind, find_resource,
};
pub use service::{Endpoints, Service};
pub use status::{Status, StatusCause, StatusDetails};
pub use time::{MicroTime, Time};

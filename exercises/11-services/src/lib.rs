// Generated from solutions/11-services/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Chapter 11: Services. A Service gives the pods a selector picks one
//! stable name and address: the endpoints controller lists the ready pods
//! behind each Service (EndpointSlices and the legacy Endpoints), the proxy
//! on each node makes the Service's ClusterIP and NodePort reach them, and
//! the cluster DNS answers the Service's name.

pub mod dns;
pub mod endpoints;
pub mod proxy;

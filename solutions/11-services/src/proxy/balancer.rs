//! Which endpoint a new connection goes to: round robin over the ready
//! endpoints of one Service port, ClientIP session affinity, and the next
//! endpoint when a dial failed. Pure: the time is passed in.
//!
//! Kubernetes: the userspace kube-proxy's `LoadBalancerRR`
//! (`pkg/proxy/userspace/roundrobin.go`, removed in 1.26): one rotating
//! index per service port, an affinity map from client IP to endpoint,
//! and `NextEndpoint` called again with the failed ones set aside when a
//! dial fails.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use super::table::EndpointInfo;

/// Past this many clients, expired affinities are swept on the next pick,
/// so that the map does not grow with every client ever seen.
const SWEEP_AT: usize = 4096;

/// Where one client was sent, and when it last came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sticky {
    endpoint: SocketAddrV4,
    last_used: Instant,
}

/// The balancing state of one Service port.
#[derive(Debug, Clone, Default)]
pub struct Balancer {
    /// The ready endpoints, in table order; terminating and unready ones
    /// take no new connection and are not here.
    ready: Vec<SocketAddrV4>,
    /// The index the next round-robin pick starts from.
    next: usize,
    /// `Some(timeout)` under `sessionAffinity: ClientIP`.
    affinity: Option<Duration>,
    sticky: HashMap<IpAddr, Sticky>,
}

impl Balancer {
    pub fn new(endpoints: &[EndpointInfo], affinity: Option<Duration>) -> Balancer {
        let mut balancer = Balancer::default();
        balancer.update(endpoints, affinity);
        balancer
    }

    /// Takes the Service port's new endpoints. The rotation goes on where
    /// it was; a client keeps its endpoint while that endpoint stays ready.
    /// Connections already made are not the balancer's business: they go
    /// on to wherever they went.
    pub fn update(&mut self, endpoints: &[EndpointInfo], affinity: Option<Duration>) {
        self.ready = endpoints
            .iter()
            .filter(|endpoint| endpoint.ready)
            .map(|endpoint| endpoint.address)
            .collect();
        if self.affinity != affinity {
            self.sticky.clear();
        }
        self.affinity = affinity;
        let ready = &self.ready;
        self.sticky
            .retain(|_, sticky| ready.contains(&sticky.endpoint));
        if self.next >= self.ready.len() {
            self.next = 0;
        }
    }

    /// The ready endpoints.
    pub fn ready(&self) -> &[SocketAddrV4] {
        &self.ready
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    // ANCHOR: pick
    /// The endpoint for a new connection from `client`, leaving out those
    /// in `failed` (dials that did not go through, for this connection).
    /// Under affinity a client whose endpoint is still ready, not failed
    /// and not expired goes back there; otherwise the next endpoint in
    /// turn, remembered for the client. `None` when every ready endpoint
    /// has failed, or there is none.
    pub fn pick(
        &mut self,
        client: IpAddr,
        now: Instant,
        failed: &[SocketAddrV4],
    ) -> Option<SocketAddrV4> {
        // exercise 5: the endpoint for a new connection from `client`, none of `failed`: under affinity the client's endpoint while it is ready, not failed and not expired; otherwise the next ready endpoint in turn (remembered for the client under affinity); None when none is left
        // hint: Round robin is an index (`self.next`) into `self.ready` that moves past each endpoint handed out. Affinity is a map `self.sticky` from client address to its endpoint and when it was last used.
        // hint: First the sticky case (refresh `last_used` and return it). Then look at most `ready.len()` places from `self.next` for one not in `failed`; move `next` past it; under affinity remember it for the client. Sweep expired sticky entries once the map reaches SWEEP_AT.
        // hint: if let Some(timeout) = self.affinity { sweep when self.sticky.len() >= SWEEP_AT; if let Some(s) = self.sticky.get_mut(&client) && now.saturating_duration_since(s.last_used) < timeout && self.ready.contains(&s.endpoint) && !failed.contains(&s.endpoint) { s.last_used = now; return Some(s.endpoint) } } let count = self.ready.len(); let offset = (0..count).find(|o| !failed.contains(&self.ready[(self.next + o) % count]))?; let index = (self.next + offset) % count; self.next = (index + 1) % count; insert Sticky { endpoint, last_used: now } under affinity; Some(endpoint)
        if let Some(timeout) = self.affinity {
            if self.sticky.len() >= SWEEP_AT {
                self.sticky
                    .retain(|_, sticky| now.saturating_duration_since(sticky.last_used) < timeout);
            }
            if let Some(sticky) = self.sticky.get_mut(&client)
                && now.saturating_duration_since(sticky.last_used) < timeout
                && self.ready.contains(&sticky.endpoint)
                && !failed.contains(&sticky.endpoint)
            {
                sticky.last_used = now;
                return Some(sticky.endpoint);
            }
        }
        let count = self.ready.len();
        let offset = (0..count).find(|offset| {
            let endpoint = self.ready[(self.next + offset) % count];
            !failed.contains(&endpoint)
        })?;
        let index = (self.next + offset) % count;
        self.next = (index + 1) % count;
        let endpoint = self.ready[index];
        if self.affinity.is_some() {
            self.sticky.insert(
                client,
                Sticky {
                    endpoint,
                    last_used: now,
                },
            );
        }
        Some(endpoint)
    }
    // ANCHOR_END: pick
}

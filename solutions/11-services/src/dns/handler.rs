//! One query in, one reply out: decode the message, answer names under the
//! cluster domain from the cache, forward the rest upstream, and encode the
//! reply so that it fits the transport it goes back on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::DNSClass;

use super::answer::{Reply, Zone, answer};
use super::catalog::Catalog;
use super::forward;
use super::name::{self, ClusterName};

/// The transport a query came on, which the reply goes back on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// The payload this server offers in its EDNS replies: the size the DNS
/// flag day of 2020 settled on, which no path fragments.
const EDNS_PAYLOAD: u16 = 1232;

/// Answers queries: the state every connection's task shares.
pub struct Handler {
    /// `cluster.local`, lower-case, without the final dot.
    pub domain: String,
    pub zone: Zone,
    pub catalog: Arc<dyn Catalog + Send + Sync>,
    /// Where names outside the cluster go; `None` answers them SERVFAIL.
    pub upstream: Option<SocketAddr>,
    pub forward_timeout: Duration,
}

impl Handler {
    // ANCHOR: handle
    /// The reply to the message in `query`, or `None` for bytes too short
    /// to hold a DNS header (nobody to answer: no ID to answer with).
    pub async fn handle(&self, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let request = match Message::from_vec(query) {
            Ok(request) => request,
            Err(_) if query.len() >= 12 => {
                let id = u16::from_be_bytes([query[0], query[1]]);
                let reply = Message::error_msg(id, OpCode::Query, ResponseCode::FormErr);
                return reply.to_vec().ok();
            }
            Err(_) => return None,
        };
        if request.message_type() != MessageType::Query {
            return None;
        }
        if request.op_code() != OpCode::Query {
            return error(&request, ResponseCode::NotImp);
        }
        let [question] = request.queries() else {
            return error(&request, ResponseCode::FormErr);
        };
        let parsed = name::parse(&question.name().to_ascii(), &self.domain);
        if parsed == ClusterName::Outside {
            return Some(self.forward(&request, query, transport).await);
        }
        if !matches!(question.query_class(), DNSClass::IN | DNSClass::ANY) {
            return error(&request, ResponseCode::Refused);
        }
        let reply = answer(
            question.name(),
            question.query_type(),
            &parsed,
            self.catalog.as_ref(),
            &self.zone,
        );
        encode(&request, reply, transport)
    }
    // ANCHOR_END: handle

    /// The upstream's reply to `query`, or SERVFAIL when there is none in
    /// time (or no upstream at all).
    async fn forward(&self, request: &Message, query: &[u8], transport: Transport) -> Vec<u8> {
        let Some(upstream) = self.upstream else {
            return error(request, ResponseCode::ServFail).unwrap_or_default();
        };
        let reply = match transport {
            Transport::Udp => forward::over_udp(query, upstream, self.forward_timeout).await,
            Transport::Tcp => forward::over_tcp(query, upstream, self.forward_timeout).await,
        };
        match reply {
            Ok(reply) => reply,
            Err(err) => {
                tracing::debug!(%upstream, "forwarding failed: {err}");
                error(request, ResponseCode::ServFail).unwrap_or_default()
            }
        }
    }
}

/// A reply to `request` with no records and `code`.
fn error(request: &Message, code: ResponseCode) -> Option<Vec<u8>> {
    let mut reply = Message::error_msg(request.id(), request.op_code(), code);
    reply.add_queries(request.queries().iter().cloned());
    reply.set_recursion_desired(request.recursion_desired());
    reply.set_recursion_available(true);
    reply.to_vec().ok()
}

/// The wire form of `reply` to `request`. Over UDP a reply larger than
/// the client can take (512 bytes, or its EDNS size) goes back empty with
/// the TC bit, so that the client asks again over TCP.
fn encode(request: &Message, reply: Reply, transport: Transport) -> Option<Vec<u8>> {
    let mut message = Message::new();
    message
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_authoritative(true)
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .set_response_code(reply.code)
        .add_queries(request.queries().iter().cloned())
        .add_answers(reply.answers)
        .add_name_servers(reply.authority)
        .add_additionals(reply.additionals);
    if request.extensions().is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        message.set_edns(edns);
    }
    let bytes = message.to_vec().ok()?;
    let limit = usize::from(request.max_payload().min(EDNS_PAYLOAD));
    if transport == Transport::Udp && bytes.len() > limit {
        return message.truncate().to_vec().ok();
    }
    Some(bytes)
}

//! The DNS wire for chapter 11's DNS tests: queries over UDP and TCP (with
//! a bound on the wait, so that a server that never answers fails the test
//! instead of hanging it), and a fake upstream resolver on loopback.

use std::net::SocketAddr;
use std::time::Duration;

use chapter_11::services::dns;
use chapter_11::services::dns::proto::op::{Message, MessageType, OpCode, Query};
use chapter_11::services::dns::proto::rr::rdata::A;
use chapter_11::services::dns::proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub async fn ask_udp(server: SocketAddr, qname: &str, qtype: RecordType) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(server).await.unwrap();
    let query = query(qname, qtype);
    socket.send(&query.to_vec().unwrap()).await.unwrap();
    let mut buffer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(30), socket.recv(&mut buffer))
        .await
        .expect("a reply over UDP")
        .unwrap();
    let reply = Message::from_vec(&buffer[..n]).unwrap();
    assert_eq!(reply.id(), query.id());
    reply
}

pub async fn ask_tcp(server: SocketAddr, qname: &str, qtype: RecordType) -> Message {
    let mut stream = TcpStream::connect(server).await.unwrap();
    let query = query(qname, qtype).to_vec().unwrap();
    stream.write_u16(query.len() as u16).await.unwrap();
    stream.write_all(&query).await.unwrap();
    let read = async {
        let length = stream.read_u16().await.unwrap();
        let mut reply = vec![0; usize::from(length)];
        stream.read_exact(&mut reply).await.unwrap();
        reply
    };
    let reply = tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("a reply over TCP");
    Message::from_vec(&reply).unwrap()
}

fn query(qname: &str, qtype: RecordType) -> Message {
    let mut message = Message::new();
    message
        .set_id(0x4b38)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_ascii(qname).unwrap(), qtype));
    message
}

/// A fake upstream resolver on loopback: answers every question over UDP
/// and TCP with the A record 192.0.2.1 (TEST-NET-1, reached by nobody).
pub async fn fake_upstream() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let (udp, tcp) = dns::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = tcp.local_addr().unwrap();
    let reply = |query: &[u8]| {
        let query = Message::from_vec(query).unwrap();
        let mut reply = Message::new();
        let question = query.queries()[0].clone();
        reply
            .set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_recursion_available(true)
            .add_answer(Record::from_rdata(
                question.name().clone(),
                300,
                RData::A(A::new(192, 0, 2, 1)),
            ))
            .add_query(question);
        reply.to_vec().unwrap()
    };
    let task = tokio::spawn(async move {
        let mut buffer = vec![0; 4096];
        loop {
            tokio::select! {
                received = udp.recv_from(&mut buffer) => {
                    let (n, peer) = received.unwrap();
                    udp.send_to(&reply(&buffer[..n]), peer).await.unwrap();
                }
                accepted = tcp.accept() => {
                    let (mut stream, _) = accepted.unwrap();
                    let length = stream.read_u16().await.unwrap();
                    let mut query = vec![0; usize::from(length)];
                    stream.read_exact(&mut query).await.unwrap();
                    let answer = reply(&query);
                    stream.write_u16(answer.len() as u16).await.unwrap();
                    stream.write_all(&answer).await.unwrap();
                }
            }
        }
    });
    (address, task)
}

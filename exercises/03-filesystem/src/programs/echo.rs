// Generated from solutions/03-filesystem/src/programs/echo.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::ffi::OsString;
use std::io::{BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::http::{read_request, write_response};
use super::{Health, Identity, get, route};

/// At most this many connections are served at once; the next waits.
const MAX_CONNECTIONS: usize = 64;
/// A client that sends nothing for this long is dropped.
const IDLE: Duration = Duration::from_secs(10);
/// At most this much of a refused request is read before closing.
const LINGER_BYTES: u64 = 1024 * 1024;

/// `__k8s-mini-echo` serves; `__k8s-mini-echo get URL` is its client.
pub fn main(args: Vec<OsString>) -> ! {
    let args: Vec<String> = args
        .into_iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    match args.as_slice() {
        [] => serve(),
        [get_, url] if get_ == "get" => client(url),
        _ => {
            eprintln!("usage: k8s-mini __k8s-mini-echo [get http://IP:PORT/PATH]");
            std::process::exit(2)
        }
    }
}

fn fail(message: String) -> ! {
    eprintln!("echo: {message}");
    std::process::exit(1)
}

// ANCHOR: serve
/// The server: listens on `$BIND_ADDRESS:$PORT` (default `0.0.0.0:8080`;
/// port 0 picks a free one), one thread per connection, one request per
/// connection, one line on stdout per request.
fn serve() -> ! {
    let port = match std::env::var("PORT") {
        Ok(port) => port.parse::<u16>().unwrap_or_else(|_| {
            fail(format!(
                "PORT must be a number from 0 to 65535, not {port:?}"
            ))
        }),
        Err(_) => 8080,
    };
    let ip = match std::env::var("BIND_ADDRESS") {
        Ok(ip) => ip
            .parse::<IpAddr>()
            .unwrap_or_else(|_| fail(format!("BIND_ADDRESS must be an IP address, not {ip:?}"))),
        Err(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let address = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(address)
        .unwrap_or_else(|error| fail(format!("cannot listen on {address}: {error}")));
    log(&format!(
        "echo: listening on {}",
        listener.local_addr().unwrap_or(address)
    ));
    let health = Arc::new(Mutex::new(Health::default()));
    let slots = Arc::new(Slots::new(MAX_CONNECTIONS));
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // Out of file descriptors, most likely: let some close.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let slot = Slots::acquire(&slots);
        let health = Arc::clone(&health);
        let spawned = std::thread::Builder::new().spawn(move || {
            let _slot = slot;
            handle(stream, &health);
        });
        if let Err(error) = spawned {
            let _ = writeln!(
                std::io::stderr(),
                "echo: cannot start a thread for a connection: {error}"
            );
        }
    }
    fail("the listening socket failed".to_string())
}
// ANCHOR_END: serve

/// Answers the one request of a connection. A bad request gets its 4xx
/// answer, never a panic that would take the connection down silently.
fn handle(stream: TcpStream, health: &Mutex<Health>) {
    let client = stream
        .peer_addr()
        .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    let mut writer = &stream;
    match read_request(&mut BufReader::new(&stream), client) {
        Ok(None) => {}
        Ok(Some(request)) => {
            let identity = Identity::detect();
            let reply = {
                let mut health = health.lock().unwrap_or_else(PoisonError::into_inner);
                route(&request, &identity, &mut health)
            };
            log(&format!(
                "{client} \"{} {}\" {}",
                request.method, request.target, reply.status
            ));
            let with_body = request.method != "HEAD";
            let _ = write_response(&mut writer, reply.status, &reply.body, with_body);
            if let Some(code) = reply.exit_code {
                let _ = stream.shutdown(Shutdown::Write);
                log(&format!("echo: exiting with code {code}, as asked"));
                std::process::exit(code);
            }
        }
        Err(refused) => {
            log(&format!(
                "{client} refused: {} {}",
                refused.status, refused.reason
            ));
            let body = format!("bad request: {}\n", refused.reason);
            let _ = write_response(&mut writer, refused.status, &body, true);
            linger(&stream);
        }
    }
    let _ = writer.flush();
}

/// One line on stdout, the container's log. A log that cannot be written
/// (a closed pipe) must not take the server down, as `println!` would.
fn log(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Closes a connection whose request was not read to its end. Closing a
/// socket with unread input makes the kernel send a reset, and the client
/// may then lose the answer: so finish sending, and read (a bounded amount
/// of) what the client still sends first.
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = std::io::copy(&mut stream.take(LINGER_BYTES), &mut std::io::sink());
}

/// Counts the connections being served, to bound the threads.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// One connection's place; given back when dropped, even by a panic.
struct Slot(Arc<Slots>);

impl Slots {
    fn new(count: usize) -> Slots {
        Slots {
            free: Mutex::new(count),
            freed: Condvar::new(),
        }
    }

    fn acquire(slots: &Arc<Slots>) -> Slot {
        let mut free = slots.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = slots
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot(Arc::clone(slots))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}

/// `get URL`: prints the body; exits 0 for a 2xx answer, else 1 (as
/// `wget` does, so it can serve as an exec probe).
fn client(url: &str) -> ! {
    match get(url) {
        Ok(response) => {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(response.body.as_bytes());
            let _ = stdout.flush();
            if (200..300).contains(&response.status) {
                std::process::exit(0);
            }
            eprintln!("echo get: {url}: HTTP status {}", response.status);
            std::process::exit(1)
        }
        Err(error) => {
            eprintln!("echo get: {url}: {error}");
            std::process::exit(1)
        }
    }
}

//! The fake network: set up inside the sandbox's network namespace, served from the host
//! process through sockets created inside it.
//!
//! Inside the namespace only `lo` exists; a `local 0.0.0.0/0` route makes every IPv4 address
//! local, so a connection to any address reaches a listener bound to `0.0.0.0:port` and never
//! leaves the namespace. A resolver on port 53 answers every A query with an address of
//! 127.1.0.0/16 handed out per name, so the sink can tell which name a connection was for.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::socket::{self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType};

use crate::model::{EventKind, HttpRequest, NetworkRecord};
use crate::run::Recorder;

/// TCP ports the sink listens on: web, mail, shells, databases, and the usual C2 favourites.
/// Connections to other ports are still seen by the syscall trace (`connect`), and refused.
pub(crate) const SINK_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 1080, 1337, 2375, 3000, 3306, 4444, 5000, 5432, 5555,
    6379, 6667, 7777, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9001, 9090, 9200, 9999, 27017, 31337,
];

/// UDP ports with a sink (DNS has its own resolver on 53): time, QUIC, syslog, statsd and the
/// usual exfiltration ports. Datagrams to other ports are seen by the trace (`sendto`).
pub(crate) const UDP_PORTS: &[u16] = &[69, 123, 443, 514, 1337, 4444, 5000, 8125, 9999, 31337];

/// Bytes of each connection kept and scanned.
const CAPTURE_BYTES: usize = 64 * 1024;

// --- inside the namespace (called by the sandbox's first child, before the fds are handed out) ---

const RTM_NEWLINK: u16 = 16;
const RTM_NEWROUTE: u16 = 24;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;

fn netlink_request(socket: &OwnedFd, kind: u16, flags: u16, body: &[u8]) -> Result<(), String> {
    let length = 16 + body.len();
    let mut message = Vec::with_capacity(length);
    message.extend_from_slice(&(length as u32).to_ne_bytes());
    message.extend_from_slice(&kind.to_ne_bytes());
    message.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    message.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    message.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    message.extend_from_slice(body);
    socket::sendto(socket.as_raw_fd(), &message, &NetlinkAddr::new(0, 0), MsgFlags::empty())
        .map_err(|error| format!("netlink send: {error}"))?;
    let mut reply = [0u8; 1024];
    let read = socket::recv(socket.as_raw_fd(), &mut reply, MsgFlags::empty())
        .map_err(|error| format!("netlink receive: {error}"))?;
    // An acknowledgement is an NLMSG_ERROR message whose error code is 0.
    if read >= 20 && u16::from_ne_bytes([reply[4], reply[5]]) == NLMSG_ERROR {
        let code = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
        if code != 0 {
            return Err(format!(
                "netlink request {kind}: {}",
                nix::errno::Errno::from_raw(-code)
            ));
        }
    }
    Ok(())
}

/// Brings `lo` up and routes every IPv4 address to it (`ip route add local 0.0.0.0/0 dev lo`),
/// by rtnetlink (rtnetlink(7)).
pub(crate) fn configure_loopback() -> Result<(), String> {
    let socket = socket::socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|error| format!("netlink socket: {error}"))?;
    // struct ifinfomsg { family, pad, type, index, flags, change }: lo is index 1 in a new namespace.
    let mut link = Vec::new();
    link.extend_from_slice(&[libc::AF_UNSPEC as u8, 0]);
    link.extend_from_slice(&0u16.to_ne_bytes());
    link.extend_from_slice(&1i32.to_ne_bytes());
    link.extend_from_slice(&(libc::IFF_UP as u32).to_ne_bytes());
    link.extend_from_slice(&(libc::IFF_UP as u32).to_ne_bytes());
    netlink_request(&socket, RTM_NEWLINK, 0, &link)?;
    // struct rtmsg { family, dst_len, src_len, tos, table, protocol, scope, type, flags } + RTA_OIF.
    let mut route = vec![
        libc::AF_INET as u8,
        0,
        0,
        0,
        libc::RT_TABLE_LOCAL,
        libc::RTPROT_BOOT,
        libc::RT_SCOPE_HOST,
        libc::RTN_LOCAL,
    ];
    route.extend_from_slice(&0u32.to_ne_bytes());
    route.extend_from_slice(&8u16.to_ne_bytes());
    route.extend_from_slice(&(libc::RTA_OIF).to_ne_bytes());
    route.extend_from_slice(&1u32.to_ne_bytes());
    netlink_request(&socket, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &route)
}

/// The listening sockets of the fake network, bound inside the namespace.
pub(crate) fn bind_sinks() -> Result<Vec<OwnedFd>, String> {
    let mut fds = Vec::new();
    let dns = UdpSocket::bind("0.0.0.0:53").map_err(|error| format!("fake resolver: {error}"))?;
    fds.push(OwnedFd::from(dns));
    for port in SINK_PORTS {
        let listener = TcpListener::bind(("0.0.0.0", *port)).map_err(|error| format!("sink port {port}: {error}"))?;
        fds.push(OwnedFd::from(listener));
    }
    for port in UDP_PORTS {
        let socket = UdpSocket::bind(("0.0.0.0", *port)).map_err(|error| format!("udp sink port {port}: {error}"))?;
        fds.push(OwnedFd::from(socket));
    }
    Ok(fds)
}

// --- on the host side: serve the sockets ---

/// Serves the resolver and the sinks until `stop` is set.
pub(crate) fn serve(
    fds: Vec<OwnedFd>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut handles = Vec::new();
    let mut fds = fds.into_iter();
    if let Some(dns) = fds.next() {
        let socket = UdpSocket::from(dns);
        let (recorder, stop) = (recorder.clone(), stop.clone());
        handles.push(std::thread::spawn(move || serve_dns(socket, &recorder, &stop)));
    }
    let listeners: Vec<TcpListener> = fds.by_ref().take(SINK_PORTS.len()).map(TcpListener::from).collect();
    let udp: Vec<UdpSocket> = fds.map(UdpSocket::from).collect();
    {
        let (recorder, stop) = (recorder.clone(), stop.clone());
        handles.push(std::thread::spawn(move || serve_udp(udp, &recorder, &stop)));
    }
    handles.push(std::thread::spawn(move || accept_loop(listeners, recorder, stop)));
    handles
}

/// Records datagrams sent to the UDP sinks, with the address they were sent to (IP_PKTINFO).
fn serve_udp(sockets: Vec<UdpSocket>, recorder: &Recorder, stop: &AtomicBool) {
    use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, SockaddrIn};
    for socket in &sockets {
        let _ = setsockopt(socket, sockopt::Ipv4PacketInfo, &true);
        let _ = socket.set_nonblocking(true);
    }
    let mut buffer = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut polls: Vec<nix::poll::PollFd> = sockets
            .iter()
            .map(|socket| nix::poll::PollFd::new(socket.as_fd(), nix::poll::PollFlags::POLLIN))
            .collect();
        if nix::poll::poll(&mut polls, nix::poll::PollTimeout::from(50u8)).unwrap_or(0) <= 0 {
            continue;
        }
        for socket in &sockets {
            let port = socket.local_addr().map(|address| address.port()).unwrap_or(0);
            loop {
                let mut iov = [std::io::IoSliceMut::new(&mut buffer)];
                let mut space = nix::cmsg_space!(libc::in_pktinfo);
                let Ok(message) =
                    recvmsg::<SockaddrIn>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty())
                else {
                    break;
                };
                let length = message.bytes;
                let destination = message.cmsgs().ok().and_then(|mut cmsgs| {
                    cmsgs.find_map(|cmsg| match cmsg {
                        ControlMessageOwned::Ipv4PacketInfo(info) => {
                            Some(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)))
                        }
                        _ => None,
                    })
                });
                let data = buffer[..length.min(CAPTURE_BYTES)].to_vec();
                let host = destination
                    .map(|ip| recorder.name_for(ip).unwrap_or_else(|| ip.to_string()))
                    .unwrap_or_default();
                let canaries = recorder.honeytokens.scan(&data);
                let mut detail = format!("udp {host}:{port} ({length} bytes)");
                if !canaries.is_empty() {
                    detail.push_str(&format!(" carrying {}", canaries.join(", ")));
                }
                recorder.event(EventKind::Connect, 0, detail);
                recorder.network(NetworkRecord {
                    time_ms: recorder.elapsed_ms(),
                    protocol: "udp".into(),
                    host,
                    port,
                    first_bytes: printable(&data, 256),
                    http: None,
                    tls_sni: None,
                    canaries,
                });
            }
        }
    }
}

fn serve_dns(socket: UdpSocket, recorder: &Recorder, stop: &AtomicBool) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buffer = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((length, peer)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let Some(query) = parse_query(&buffer[..length]) else {
            continue;
        };
        let address = recorder.address_for(&query.name);
        let canaries = recorder.honeytokens.scan(query.name.as_bytes());
        recorder.event(
            EventKind::Dns,
            0,
            if query.qtype == 1 {
                format!("A {} -> {address}", query.name)
            } else {
                format!("{} {} -> (no records)", query.type_name(), query.name)
            },
        );
        recorder.network(NetworkRecord {
            time_ms: recorder.elapsed_ms(),
            protocol: "dns".into(),
            host: query.name.clone(),
            port: 53,
            first_bytes: String::new(),
            http: None,
            tls_sni: None,
            canaries,
        });
        let reply = answer(&buffer[..length], &query, address);
        let _ = socket.send_to(&reply, peer);
    }
}

struct Query {
    name: String,
    qtype: u16,
    /// Offset just past the question section.
    end: usize,
}

impl Query {
    fn type_name(&self) -> &'static str {
        match self.qtype {
            1 => "A",
            28 => "AAAA",
            5 => "CNAME",
            15 => "MX",
            16 => "TXT",
            33 => "SRV",
            _ => "query",
        }
    }
}

/// The first question of a DNS query (RFC 1035 §4.1.2); names are bounded, pointers refused.
fn parse_query(packet: &[u8]) -> Option<Query> {
    if packet.len() < 12 || packet[2] & 0x80 != 0 || u16::from_be_bytes([packet[4], packet[5]]) == 0 {
        return None;
    }
    let mut position = 12;
    let mut labels = Vec::new();
    loop {
        let length = *packet.get(position)? as usize;
        position += 1;
        if length == 0 {
            break;
        }
        if length > 63 || labels.len() > 127 {
            return None;
        }
        let label = packet.get(position..position + length)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        position += length;
    }
    let qtype = u16::from_be_bytes([*packet.get(position)?, *packet.get(position + 1)?]);
    packet.get(position + 3)?;
    Some(Query {
        name: labels.join("."),
        qtype,
        end: position + 4,
    })
}

/// A reply with one A record for A queries, no records (NOERROR) otherwise.
fn answer(packet: &[u8], query: &Query, address: Ipv4Addr) -> Vec<u8> {
    let mut reply = Vec::with_capacity(query.end + 16);
    reply.extend_from_slice(&packet[..2]);
    let recursion_desired = packet[2] & 0x01;
    reply.extend_from_slice(&[0x80 | 0x04 | recursion_desired, 0x80]); // QR, AA, RD; RA, NOERROR
    let answers: u16 = if query.qtype == 1 { 1 } else { 0 };
    reply.extend_from_slice(&1u16.to_be_bytes());
    reply.extend_from_slice(&answers.to_be_bytes());
    reply.extend_from_slice(&[0, 0, 0, 0]);
    reply.extend_from_slice(&packet[12..query.end]);
    if answers == 1 {
        reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        reply.extend_from_slice(&60u32.to_be_bytes());
        reply.extend_from_slice(&4u16.to_be_bytes());
        reply.extend_from_slice(&address.octets());
    }
    reply
}

fn accept_loop(listeners: Vec<TcpListener>, recorder: Arc<Recorder>, stop: Arc<AtomicBool>) {
    for listener in &listeners {
        let _ = listener.set_nonblocking(true);
    }
    let mut workers = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut polls: Vec<nix::poll::PollFd> = listeners
            .iter()
            .map(|listener| nix::poll::PollFd::new(listener.as_fd(), nix::poll::PollFlags::POLLIN))
            .collect();
        if nix::poll::poll(&mut polls, nix::poll::PollTimeout::from(50u8)).unwrap_or(0) <= 0 {
            continue;
        }
        for listener in &listeners {
            while let Ok((stream, _)) = listener.accept() {
                let (recorder, stop) = (recorder.clone(), stop.clone());
                workers.push(std::thread::spawn(move || handle_connection(stream, &recorder, &stop)));
            }
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
}

fn handle_connection(mut stream: TcpStream, recorder: &Recorder, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let local = stream.local_addr().ok();
    let port = local.map(|address| address.port()).unwrap_or(0);
    let host = match local {
        Some(SocketAddr::V4(address)) => recorder
            .name_for(*address.ip())
            .unwrap_or_else(|| address.ip().to_string()),
        Some(address) => address.ip().to_string(),
        None => String::new(),
    };
    let started = Instant::now();
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    // Read until the peer is done, stops sending for a while, or the capture is full; answer
    // HTTP requests once they are complete so clients send their body and move on.
    while data.len() < CAPTURE_BYTES && started.elapsed() < Duration::from_secs(5) && !stop.load(Ordering::Relaxed) {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => data.extend_from_slice(&chunk[..count]),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !data.is_empty() && started.elapsed() > Duration::from_millis(500) {
                    break;
                }
                continue;
            }
            Err(_) => break,
        }
        // A TLS client waits for a ServerHello that never comes: the ClientHello is all there is.
        if parse_sni(&data).is_some() {
            break;
        }
        if http_complete(&data) {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            );
            break;
        }
    }
    data.truncate(CAPTURE_BYTES);
    let http = parse_http(&data);
    let tls_sni = parse_sni(&data);
    let canaries = recorder.honeytokens.scan(&data);
    let shown_host = http
        .as_ref()
        .map(|request| request.host.clone())
        .filter(|name| !name.is_empty())
        .or_else(|| tls_sni.clone())
        .unwrap_or_else(|| host.clone());
    let mut detail = format!("{shown_host}:{port}");
    if let Some(request) = &http {
        detail.push_str(&format!(
            " {} {} ({} body bytes)",
            request.method, request.path, request.body_bytes
        ));
    } else if tls_sni.is_some() {
        detail.push_str(" TLS");
    }
    if !canaries.is_empty() {
        detail.push_str(&format!(" carrying {}", canaries.join(", ")));
    }
    recorder.event(EventKind::Connect, 0, detail);
    recorder.network(NetworkRecord {
        time_ms: recorder.elapsed_ms(),
        protocol: "tcp".into(),
        host,
        port,
        first_bytes: printable(&data, 256),
        http,
        tls_sni,
        canaries,
    });
}

fn printable(data: &[u8], max: usize) -> String {
    data.iter()
        .take(max)
        .map(|&byte| {
            if byte.is_ascii_graphic() || byte == b' ' {
                byte as char
            } else {
                '.'
            }
        })
        .collect()
}

fn header_end(data: &[u8]) -> Option<usize> {
    data.windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|position| position + 4)
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn http_complete(data: &[u8]) -> bool {
    let Some(end) = header_end(data) else {
        return false;
    };
    let head = String::from_utf8_lossy(&data[..end]);
    let length = header_value(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    data.len() >= end + length.min(CAPTURE_BYTES)
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT"];

pub(crate) fn parse_http(data: &[u8]) -> Option<HttpRequest> {
    let line_end = data.windows(2).position(|window| window == b"\r\n")?;
    let line = std::str::from_utf8(&data[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let method = parts.next()?;
    let path = parts.next()?;
    if !METHODS.contains(&method) || !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let end = header_end(data).unwrap_or(data.len());
    let head = String::from_utf8_lossy(&data[..end]);
    Some(HttpRequest {
        method: method.to_string(),
        host: header_value(&head, "host").unwrap_or_default().to_string(),
        path: palisade_core::bounded_excerpt(path, 200),
        body_bytes: data.len().saturating_sub(end),
    })
}

/// The server name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3).
pub(crate) fn parse_sni(data: &[u8]) -> Option<String> {
    if data.first() != Some(&0x16) || data.get(5) != Some(&0x01) {
        return None;
    }
    let mut position = 5 + 4 + 2 + 32; // record header, handshake header, version, random
    let session = *data.get(position)? as usize;
    position += 1 + session;
    let suites = u16::from_be_bytes([*data.get(position)?, *data.get(position + 1)?]) as usize;
    position += 2 + suites;
    let methods = *data.get(position)? as usize;
    position += 1 + methods;
    let extensions_end = position + 2 + u16::from_be_bytes([*data.get(position)?, *data.get(position + 1)?]) as usize;
    position += 2;
    while position + 4 <= extensions_end.min(data.len()) {
        let kind = u16::from_be_bytes([data[position], data[position + 1]]);
        let length = u16::from_be_bytes([data[position + 2], data[position + 3]]) as usize;
        position += 4;
        if kind == 0 {
            // server_name_list: length(2), type(1), name length(2), name
            let name_length = u16::from_be_bytes([*data.get(position + 3)?, *data.get(position + 4)?]) as usize;
            let name = data.get(position + 5..position + 5 + name_length)?;
            return Some(String::from_utf8_lossy(name).into_owned());
        }
        position += length;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_parsed_and_answered() {
        // id 0x1234, RD, one question: evil.example.com A IN
        let mut packet = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["evil", "example", "com"] {
            packet.push(label.len() as u8);
            packet.extend_from_slice(label.as_bytes());
        }
        packet.extend_from_slice(&[0, 0, 1, 0, 1]);
        let query = parse_query(&packet).expect("valid query");
        assert_eq!(query.name, "evil.example.com");
        let reply = answer(&packet, &query, Ipv4Addr::new(127, 1, 0, 7));
        assert_eq!(&reply[..2], &[0x12, 0x34]);
        assert_eq!(u16::from_be_bytes([reply[6], reply[7]]), 1);
        assert_eq!(&reply[reply.len() - 4..], &[127, 1, 0, 7]);
        assert!(parse_query(&packet[..14]).is_none());
    }

    #[test]
    fn hostile_bytes_never_panic_the_parsers() {
        // Every truncation of valid messages, then random bytes (xorshift, fixed seed).
        let mut query = vec![
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 1, 0, 1,
        ];
        let http = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\nbody".to_vec();
        let mut hello = vec![0x16, 3, 1, 0, 60, 1, 0, 0, 56, 3, 3];
        hello.extend_from_slice(&[7u8; 32]);
        hello.extend_from_slice(&[
            0, 0, 2, 0x13, 1, 1, 0, 0, 14, 0, 0, 0, 10, 0, 8, 0, 0, 5, b'h', b'.', b'c', b'o', b'm',
        ]);
        for message in [&query, &http, &hello] {
            for end in 0..=message.len() {
                let _ = parse_query(&message[..end]);
                let _ = parse_http(&message[..end]);
                let _ = parse_sni(&message[..end]);
                let _ = http_complete(&message[..end]);
            }
        }
        assert_eq!(parse_sni(&hello).as_deref(), Some("h.com"));
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            let length = round % 300;
            let mut data = Vec::with_capacity(length);
            for _ in 0..length {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                data.push(state as u8);
            }
            // Keep plausible headers often, so parsing goes deep.
            if round % 3 == 0 && data.len() > 6 {
                data[0] = 0x16;
                data[5] = 0x01;
            }
            let _ = parse_sni(&data);
            let _ = parse_http(&data);
            if let Some(parsed) = parse_query(&data) {
                let _ = answer(&data, &parsed, Ipv4Addr::LOCALHOST);
            }
        }
        query.truncate(13);
        assert!(parse_query(&query).is_none());
    }

    #[test]
    fn http_requests_are_parsed() {
        let request = b"POST /collect?x=1 HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 5\r\n\r\nhello";
        let parsed = parse_http(request).expect("http");
        assert_eq!(parsed.method, "POST");
        assert_eq!(parsed.host, "evil.example");
        assert_eq!(parsed.path, "/collect?x=1");
        assert_eq!(parsed.body_bytes, 5);
        assert!(http_complete(request));
        assert!(!http_complete(&request[..request.len() - 1]));
        assert!(parse_http(b"\x16\x03\x01 not http\r\n").is_none());
    }
}

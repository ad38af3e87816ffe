//! One OpenFlow connection of a bridge, on tokio: the hello exchange and
//! version negotiation (with upstream's failure texts and
//! `OFPHFC_INCOMPATIBLE` error), framing, echo, inactivity probes, every
//! other request handed to [`Ofproto::handle_openflow`], and the bridge's
//! asynchronous messages filtered and encoded for this connection.

use super::async_msgs::{ConnKind, DEFAULT_MISS_SEND_LEN};
use super::BridgeShared;
use ofproto::{AsyncMsg, ConnState};
use openflow::raw::Header;
use openflow::{Hello, OfpErr, OfpVersion};
use rpc::stream::BoxStream;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};

const OFPT_HELLO: u8 = 0;
const OFPT_ERROR: u8 = 1;
const OFPT_ECHO_REQUEST: u8 = 2;
const OFPT_ECHO_REPLY: u8 = 3;

/// Formats a version bitmap as upstream's negotiation messages do.
pub fn version_bitmap_text(bitmap: u32) -> String {
    let vs: Vec<u32> = (0..32).filter(|v| bitmap & (1 << v) != 0).collect();
    match vs.as_slice() {
        [] => "no versions".to_string(),
        [one] => format!("version 0x{one:02x}"),
        [.., top] if bitmap == ((1u32 << (top + 1)) - 2) => {
            format!("version 0x{top:02x} and earlier")
        }
        _ => format!(
            "versions {}",
            vs.iter()
                .map(|v| format!("0x{v:02x}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The bitmap of a `protocols` column (`OpenFlow10` ... `OpenFlow15`);
/// empty means every version this switch speaks (1.0 to 1.5).
pub fn allowed_versions(protocols: &[String]) -> u32 {
    let mut bits = 0u32;
    for p in protocols {
        if let Some(v) = OfpVersion::from_name(p) {
            bits |= 1 << v.wire();
        }
    }
    if bits == 0 {
        0x7e
    } else {
        bits
    }
}

/// What a connection is, as its manager configured it.
#[derive(Clone, Debug)]
pub struct ConnConfig {
    /// Upstream's connection name (`unix#3`, `tcp:127.0.0.1:6653`).
    pub name: String,
    pub kind: ConnKind,
    /// Versions this end allows (bit n = wire version n).
    pub allowed: u32,
    /// Inactivity probe interval (none: never probe).
    pub probe: Option<Duration>,
    /// `enable_async_messages` (false: no asynchronous messages at all).
    pub async_enabled: bool,
}

/// Why a connection ended.
#[derive(Debug)]
pub enum ConnEnd {
    /// The peer closed the connection between messages.
    Eof,
    /// An error, as upstream's text (`Protocol error`, `Broken pipe`...).
    Error(String),
    /// The peer stopped answering probes.
    ProbeTimeout(u64),
}

impl ConnEnd {
    fn errno(code: i32) -> ConnEnd {
        ConnEnd::Error(rpc::errno::strerror(code))
    }
}

fn io_end(e: &std::io::Error) -> ConnEnd {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ConnEnd::Eof
    } else {
        ConnEnd::Error(rpc::errno::io_error_text(e))
    }
}

/// Reads framed messages and forwards them; ends at EOF or error.
async fn reader<R: AsyncReadExt + Unpin>(
    mut r: R,
    name: String,
    tx: mpsc::Sender<Result<Vec<u8>, ConnEnd>>,
) {
    loop {
        let mut head = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            match r.read(&mut head[got..]).await {
                Ok(0) => {
                    let end = if got == 0 {
                        ConnEnd::Eof
                    } else {
                        ConnEnd::errno(libc::EPROTO)
                    };
                    let _ = tx.send(Err(end)).await;
                    return;
                }
                Ok(n) => got += n,
                Err(e) => {
                    let _ = tx.send(Err(io_end(&e))).await;
                    return;
                }
            }
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if len < 8 {
            vlog::warn!(
                "vconn",
                "{name}: received too-short ofp_header ({len} bytes)"
            );
            let _ = tx.send(Err(ConnEnd::errno(libc::EPROTO))).await;
            return;
        }
        let mut msg = vec![0u8; len];
        msg[..8].copy_from_slice(&head);
        if let Err(e) = r.read_exact(&mut msg[8..]).await {
            let end = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                ConnEnd::errno(libc::EPROTO)
            } else {
                io_end(&e)
            };
            let _ = tx.send(Err(end)).await;
            return;
        }
        if tx.send(Ok(msg)).await.is_err() {
            return;
        }
    }
}

fn echo_reply(req: &[u8], version: u8) -> Vec<u8> {
    let mut m = req.to_vec();
    m[0] = version;
    m[1] = OFPT_ECHO_REPLY;
    m
}

fn echo_request(version: u8) -> Vec<u8> {
    let mut m = vec![version, OFPT_ECHO_REQUEST, 0, 8];
    m.extend_from_slice(&0u32.to_be_bytes());
    m
}

/// Runs one connection until it ends. `on_up` is called with the
/// negotiated version once the hello exchange succeeded.
pub async fn serve(
    stream: BoxStream,
    cfg: ConnConfig,
    shared: Arc<BridgeShared>,
    on_up: impl FnOnce(u8) + Send,
) -> ConnEnd {
    let (rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel(16);
    let reader_task = tokio::spawn(reader(rd, cfg.name.clone(), tx));
    let end = serve_inner(&mut wr, &mut rx, &cfg, &shared, on_up).await;
    reader_task.abort();
    let _ = wr.shutdown().await;
    end
}

async fn recv_msg(rx: &mut mpsc::Receiver<Result<Vec<u8>, ConnEnd>>) -> Result<Vec<u8>, ConnEnd> {
    match rx.recv().await {
        Some(r) => r,
        None => Err(ConnEnd::Eof),
    }
}

async fn serve_inner<W: AsyncWriteExt + Unpin>(
    wr: &mut W,
    rx: &mut mpsc::Receiver<Result<Vec<u8>, ConnEnd>>,
    cfg: &ConnConfig,
    shared: &Arc<BridgeShared>,
    on_up: impl FnOnce(u8) + Send,
) -> ConnEnd {
    let name = &cfg.name;
    let hello = Hello::encode(cfg.allowed, shared.next_xid());
    if let Err(e) = wr.write_all(&hello).await {
        return io_end(&e);
    }
    // The peer's hello.
    let first = match cfg.probe {
        Some(p) => match tokio::time::timeout(p * 2, recv_msg(rx)).await {
            Ok(r) => r,
            Err(_) => return ConnEnd::ProbeTimeout(p.as_secs() * 2),
        },
        None => recv_msg(rx).await,
    };
    let first = match first {
        Ok(m) => m,
        Err(e) => return e,
    };
    if first[1] != OFPT_HELLO {
        let what = openflow::decode_raw(&first).map_or("unknown message", |r| r.name());
        vlog::warn!(
            "vconn",
            "{name}: received message while expecting hello: {what}"
        );
        return ConnEnd::errno(libc::EPROTO);
    }
    let peer = Hello::decode(&first);
    let peer_text = if first.len() > 8 {
        version_bitmap_text(peer.version_bitmap)
    } else {
        format!("version 0x{:02x} and earlier", first[0])
    };
    let common = peer.version_bitmap & cfg.allowed;
    if common == 0 {
        let ours = version_bitmap_text(cfg.allowed);
        vlog::warn!(
            "vconn",
            "{name}: version negotiation failed (we support {ours}, peer supports {peer_text})"
        );
        let peer_version = (31 - peer.version_bitmap.leading_zeros().min(31)) as u8;
        let ver = OfpVersion::from_wire(peer_version).unwrap_or(OfpVersion::Of10);
        let text = format!("We support {ours}, you support {peer_text}, no common versions.");
        let err = openflow::encode_error_msg(OfpErr::OFPHFC_INCOMPATIBLE, ver, 0, text.as_bytes());
        return match wr.write_all(&err).await {
            Ok(()) => ConnEnd::errno(libc::EPROTO),
            Err(e) => io_end(&e),
        };
    }
    let version = (31 - common.leading_zeros()) as u8;
    let conn_id = shared.next_conn_id();
    let mut state = ConnState::new(conn_id, version);
    state.service = cfg.kind == ConnKind::Service;
    if cfg.kind == ConnKind::Primary {
        state.miss_send_len = DEFAULT_MISS_SEND_LEN;
    }
    on_up(version);
    let end = run_session(wr, rx, cfg, shared, &mut state).await;
    shared.with_ofproto(|o| o.conn_closed(&state));
    end
}

async fn run_session<W: AsyncWriteExt + Unpin>(
    wr: &mut W,
    rx: &mut mpsc::Receiver<Result<Vec<u8>, ConnEnd>>,
    cfg: &ConnConfig,
    shared: &Arc<BridgeShared>,
    state: &mut ConnState,
) -> ConnEnd {
    let name = &cfg.name;
    let version = state.version;
    let mut bus = shared.subscribe();
    let probe = cfg.probe.unwrap_or(Duration::from_secs(3600 * 24));
    let mut deadline = tokio::time::Instant::now() + probe;
    let mut probing = false;
    loop {
        let out: Vec<Vec<u8>> = tokio::select! {
            m = recv_msg(rx) => {
                let msg = match m {
                    Ok(m) => m,
                    Err(e) => return e,
                };
                deadline = tokio::time::Instant::now() + probe;
                probing = false;
                let Some(h) = Header::parse(&msg) else {
                    return ConnEnd::errno(libc::EPROTO);
                };
                match h.type_ {
                    OFPT_ECHO_REQUEST => vec![echo_reply(&msg, version)],
                    OFPT_ECHO_REPLY | OFPT_HELLO | OFPT_ERROR => Vec::new(),
                    _ if h.version != version => {
                        vlog::err!(
                            "vconn",
                            "{name}: received OpenFlow version 0x{:02x} != expected {:02x}",
                            h.version,
                            version
                        );
                        return ConnEnd::errno(libc::EPROTO);
                    }
                    _ => shared.handle(state, &msg),
                }
            }
            a = bus.recv() => match a {
                Ok(msg) if cfg.async_enabled => shared.with_ofproto_quiet(|o| {
                    ofproto::handler::asyncmsg::encode_for(o, state, std::slice::from_ref(&*msg))
                }),
                Ok(_) => Vec::new(),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    vlog::warn!("connmgr", "{name}: dropped {n} asynchronous messages");
                    Vec::new()
                }
                Err(broadcast::error::RecvError::Closed) => return ConnEnd::Eof,
            },
            _ = tokio::time::sleep_until(deadline), if cfg.probe.is_some() => {
                if probing {
                    return ConnEnd::ProbeTimeout(probe.as_secs());
                }
                probing = true;
                deadline = tokio::time::Instant::now() + probe;
                vec![echo_request(version)]
            }
        };
        for m in out {
            if let Err(e) = wr.write_all(&m).await {
                return io_end(&e);
            }
        }
    }
}

/// Type of the bus carrying a bridge's asynchronous messages.
pub type AsyncBus = broadcast::Sender<Arc<AsyncMsg>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_texts_match_upstream() {
        assert_eq!(version_bitmap_text(0x10), "version 0x04");
        assert_eq!(version_bitmap_text(0x06), "version 0x02 and earlier");
        assert_eq!(version_bitmap_text(0x02), "version 0x01");
        assert_eq!(version_bitmap_text(0x12), "versions 0x01, 0x04");
    }

    #[test]
    fn protocols_column() {
        assert_eq!(allowed_versions(&[]), 0x7e);
        assert_eq!(allowed_versions(&["OpenFlow13".to_string()]), 0x10);
        assert_eq!(
            allowed_versions(&["OpenFlow10".to_string(), "OpenFlow14".to_string()]),
            0x22
        );
    }
}

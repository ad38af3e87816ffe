//! One JSON-RPC connection over a byte stream (async): queues outgoing
//! messages, frames incoming bytes into messages, and reports the end of
//! the stream or a protocol violation the way upstream's jsonrpc does
//! (logged at WARN by module `jsonrpc`, then the connection is unusable).
//!
//! [`Connection::recv`] is cancel-safe and makes progress on queued output
//! while it waits, so a server task can `select!` between it and its own
//! events without stalling either direction.

use crate::errno;
use crate::framing::{Framer, DEFAULT_MAX_MESSAGE};
use crate::message::Message;
use crate::stream::BoxStream;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};

/// Why a connection stopped delivering messages.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The peer closed the stream between messages.
    #[error("End of file")]
    Eof,
    /// The peer sent something that is not JSON-RPC (or closed mid-message).
    #[error("Protocol error")]
    Protocol(String),
    #[error("{}", errno::io_error_text(.0))]
    Io(#[from] io::Error),
}

impl ConnectionError {
    /// The errno upstream reports for this error (EOF is not an errno).
    pub fn errno(&self) -> Option<i32> {
        match self {
            ConnectionError::Eof => None,
            ConnectionError::Protocol(_) => Some(libc::EPROTO),
            ConnectionError::Io(e) => e.raw_os_error(),
        }
    }
}

/// A JSON-RPC connection.
pub struct Connection {
    name: String,
    reader: ReadHalf<BoxStream>,
    writer: WriteHalf<BoxStream>,
    framer: Framer,
    outbox: Vec<u8>,
    received_bytes: u64,
    failed: bool,
    readbuf: Box<[u8]>,
}

const READ_CHUNK: usize = 64 * 1024;

impl Connection {
    /// Wraps a connected stream; `name` appears in log messages.
    pub fn new(stream: BoxStream, name: impl Into<String>) -> Connection {
        let (reader, writer) = tokio::io::split(stream);
        Connection {
            name: name.into(),
            reader,
            writer,
            framer: Framer::new(DEFAULT_MAX_MESSAGE),
            outbox: Vec::new(),
            received_bytes: 0,
            failed: false,
            readbuf: vec![0u8; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// Limits the size of one incoming message.
    pub fn set_max_message(&mut self, max: usize) {
        self.framer = Framer::new(max);
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes received so far (any byte counts as activity for probes).
    pub fn received_bytes(&self) -> u64 {
        self.received_bytes
    }

    /// Bytes queued but not yet written.
    pub fn backlog(&self) -> usize {
        self.outbox.len()
    }

    /// Queues `msg`; it is written by [`flush`](Self::flush) or while
    /// [`recv`](Self::recv) waits.
    pub fn queue(&mut self, msg: &Message) {
        vlog::dbg!("jsonrpc", "{}: send {}", self.name, msg.description());
        self.outbox.extend_from_slice(&msg.to_bytes());
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        while !self.outbox.is_empty() {
            let n = self.writer.write(&self.outbox).await?;
            if n == 0 {
                return Err(ConnectionError::Io(io::Error::from(
                    io::ErrorKind::WriteZero,
                )));
            }
            self.outbox.drain(..n);
        }
        self.writer.flush().await?;
        Ok(())
    }

    /// Queues `msg` and writes it out.
    pub async fn send(&mut self, msg: &Message) -> Result<(), ConnectionError> {
        self.queue(msg);
        self.flush().await
    }

    fn protocol_error(&mut self, what: String) -> ConnectionError {
        self.failed = true;
        vlog::warn!("jsonrpc", "{}: {what}", self.name);
        ConnectionError::Protocol(what)
    }

    /// The next complete message already buffered, if any.
    fn buffered(&mut self) -> Result<Option<Message>, ConnectionError> {
        match self.framer.next_value() {
            Ok(Some(v)) => match Message::from_json(v) {
                Ok(m) => {
                    vlog::dbg!("jsonrpc", "{}: received {}", self.name, m.description());
                    Ok(Some(m))
                }
                Err(e) => Err(self.protocol_error(format!("received bad JSON-RPC message: {e}"))),
            },
            Ok(None) => Ok(None),
            Err(e) => Err(self.protocol_error(format!("error parsing stream: {e}"))),
        }
    }

    /// Receives the next message, writing queued output meanwhile.
    /// Cancel-safe: no byte is lost if the future is dropped.
    pub async fn recv(&mut self) -> Result<Message, ConnectionError> {
        if self.failed {
            return Err(ConnectionError::Protocol("connection failed".into()));
        }
        loop {
            if let Some(m) = self.buffered()? {
                return Ok(m);
            }
            tokio::select! {
                r = self.reader.read(&mut self.readbuf) => {
                    let n = r?;
                    if n == 0 {
                        return match self.framer.finish() {
                            Ok(()) => Err(ConnectionError::Eof),
                            Err(_) => {
                                // Cut off mid-message: upstream reports the EOF.
                                Err(ConnectionError::Eof)
                            }
                        };
                    }
                    self.received_bytes += n as u64;
                    self.framer.push(&self.readbuf[..n]);
                }
                w = self.writer.write(&self.outbox), if !self.outbox.is_empty() => {
                    let n = w?;
                    if n == 0 {
                        return Err(ConnectionError::Io(io::Error::from(io::ErrorKind::WriteZero)));
                    }
                    self.outbox.drain(..n);
                }
            }
        }
    }

    /// Sends a request and waits for the reply or error with its id,
    /// answering echo requests and dropping other messages meanwhile.
    pub async fn transact(&mut self, request: Message) -> Result<Message, ConnectionError> {
        let id = request.id().cloned();
        self.send(&request).await?;
        loop {
            let m = self.recv().await?;
            match &m {
                Message::Request {
                    method,
                    params,
                    id: rid,
                } if method == "echo" => {
                    let reply =
                        Message::reply(serde_json::Value::Array(params.clone()), rid.clone());
                    self.queue(&reply);
                }
                Message::Reply { id: rid, .. } | Message::Error { id: rid, .. }
                    if Some(rid) == id.as_ref() =>
                {
                    return Ok(m)
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::io::AsyncWriteExt;

    fn pair() -> (Connection, tokio::io::DuplexStream) {
        let (a, b) = tokio::io::duplex(1 << 16);
        (Connection::new(Box::new(a), "test"), b)
    }

    #[tokio::test]
    async fn receives_split_and_concatenated_messages() {
        let (mut c, mut peer) = pair();
        peer.write_all(br#"{"id":1,"method":"a","params":[]}{"id":null,"method":"#)
            .await
            .unwrap();
        assert_eq!(c.recv().await.unwrap().method(), Some("a"));
        peer.write_all(br#""b","params":[2]}"#).await.unwrap();
        assert_eq!(
            c.recv().await.unwrap(),
            Message::notify("b", vec![json!(2)])
        );
        drop(peer);
        assert!(matches!(c.recv().await, Err(ConnectionError::Eof)));
    }

    #[tokio::test]
    async fn bad_messages_are_protocol_errors() {
        let (mut c, mut peer) = pair();
        peer.write_all(br#"[1,2]"#).await.unwrap();
        let e = c.recv().await.unwrap_err();
        assert_eq!(e.errno(), Some(libc::EPROTO));
        assert!(c.recv().await.is_err());

        let (mut c, mut peer) = pair();
        peer.write_all(b"nonsense ").await.unwrap();
        assert!(matches!(c.recv().await, Err(ConnectionError::Protocol(_))));
    }

    #[tokio::test]
    async fn transact_answers_echo_and_skips_others() {
        let (mut c, peer) = pair();
        let server = tokio::spawn(async move {
            let mut s = Connection::new(Box::new(peer), "server");
            let req = s.recv().await.unwrap();
            s.send(&Message::Request {
                method: "echo".into(),
                params: vec![json!("x")],
                id: json!("e1"),
            })
            .await
            .unwrap();
            let echo_reply = s.recv().await.unwrap();
            assert_eq!(echo_reply, Message::reply(json!(["x"]), json!("e1")));
            s.send(&Message::reply(json!("other"), json!(999_999)))
                .await
                .unwrap();
            s.send(&Message::reply(json!("mine"), req.id().unwrap().clone()))
                .await
                .unwrap();
        });
        let reply = c.transact(Message::request("m", vec![])).await.unwrap();
        assert!(matches!(reply, Message::Reply { result, .. } if result == json!("mine")));
        server.await.unwrap();
    }
}

//! One client of the server: a JSON-RPC session whose requests go to
//! [`Server::handle`] and which also carries the notifications (monitor
//! updates, `locked`, `stolen`) the server queues for it. Inactivity probes
//! and `echo` come with [`rpc::Session`]. Transactions blocked by `wait`
//! stay pending as triggers while the session serves its other requests;
//! the `cancel` notification drops one. A session of a remote configured
//! in the database follows that remote's options ([`RemoteOptions`]) as
//! they change: inactivity probe, maximum backoff, read-only.

use super::locks::ClientId;
use super::remotes::RemoteOptions;
use super::{Handled, Outgoing, Server};
use rpc::{Message, Session, SessionEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// The most requests handled between two fsyncs of one session.
const MAX_BATCH: usize = 256;

/// A `transact` whose `wait` is not yet satisfied (upstream's trigger): it
/// is tried again after every commit and when its timeout expires, while the
/// session goes on serving other requests; a `cancel` notification naming
/// its id drops it without a reply, as upstream does.
struct Trigger {
    msg: Message,
    started: Instant,
    deadline: Option<Instant>,
}

impl Trigger {
    fn id(&self) -> Option<&serde_json::Value> {
        self.msg.id()
    }
}

/// Handles `msg`: a reply to send, a new trigger, or nothing.
fn handle_new(
    server: &Server,
    client: ClientId,
    msg: Message,
    triggers: &mut Vec<Trigger>,
) -> Option<(bool, Message)> {
    if let Message::Notify { method, params } = &msg {
        if method == "cancel" {
            if let [id] = &params[..] {
                triggers.retain(|t| t.id() != Some(id));
            }
            return None;
        }
    }
    let is_transact = msg.method() == Some("transact");
    match server.handle(client, &msg, 0) {
        Handled::Reply(m) => Some((is_transact, m)),
        Handled::Nothing => None,
        Handled::Blocked { timeout_ms } => {
            let started = Instant::now();
            let deadline = timeout_ms.map(|t| started + Duration::from_millis(t));
            triggers.push(Trigger {
                msg,
                started,
                deadline,
            });
            None
        }
    }
}

/// Tries every trigger again; the replies of those that completed.
fn retry(server: &Server, client: ClientId, triggers: &mut Vec<Trigger>) -> Vec<(bool, Message)> {
    let mut answers = Vec::new();
    let now = Instant::now();
    triggers.retain_mut(|t| {
        let elapsed = now.saturating_duration_since(t.started).as_millis() as u64;
        match server.handle(client, &t.msg, elapsed) {
            Handled::Reply(m) => {
                answers.push((true, m));
                false
            }
            Handled::Nothing => false,
            Handled::Blocked { timeout_ms } => {
                t.deadline = timeout_ms.map(|ms| t.started + Duration::from_millis(ms));
                true
            }
        }
    });
    answers
}

/// Acts on something the server handed to this session; a disconnection
/// is noted in `disconnect`, to happen once the replies due are sent.
fn apply_outgoing(
    o: Outgoing,
    session: &mut Session,
    triggers: &mut Vec<Trigger>,
    disconnect: &mut Option<String>,
) {
    match o {
        Outgoing::Message(m) => {
            session.send(&m);
        }
        Outgoing::CancelTriggers(db) => {
            triggers.retain(|t| {
                let on_db = matches!(&t.msg, Message::Request { params, .. }
                    if params.first().and_then(serde_json::Value::as_str) == Some(db.as_str()));
                if on_db {
                    if let Some(id) = t.id() {
                        session.send(&Message::error("canceled".into(), id.clone()));
                    }
                }
                !on_db
            });
        }
        Outgoing::Disconnect(reason) => *disconnect = Some(reason),
    }
}

/// Sends what is queued, then drops the connection (an active remote
/// reconnects later), as upstream's `jsonrpc_session_force_reconnect`.
async fn disconnect_now(session: &mut Session, reason: &str) {
    vlog::info!(
        "ovsdb_jsonrpc_server",
        "{}: disconnecting ({reason})",
        session.name()
    );
    session.flush().await;
    session.force_reconnect();
}

/// Waits until every commit `answers` may reveal is durable (the sync
/// thread syncs them together with other sessions' commits), sends the
/// notifications they caused, then the answers (a transaction whose commit
/// could not be made durable gets the storage error instead of its result).
async fn finish(
    server: &Server,
    session: &mut Session,
    rx: Option<&mut mpsc::UnboundedReceiver<Outgoing>>,
    triggers: &mut Vec<Trigger>,
    answers: Vec<(bool, Message)>,
) {
    let synced = server.durable(server.last_commit()).await;
    let mut disconnect = None;
    if let Some(r) = rx {
        while let Ok(o) = r.try_recv() {
            apply_outgoing(o, session, triggers, &mut disconnect);
        }
    }
    for (is_transact, reply) in answers {
        match (&synced, is_transact, &reply) {
            (Err(e), true, Message::Reply { id, .. }) => {
                session.send(&Message::error(e.to_json(), id.clone()));
            }
            _ => {
                session.send(&reply);
            }
        }
    }
    if let Some(reason) = disconnect {
        disconnect_now(session, &reason).await;
    }
}

/// What woke the session loop.
enum Wake {
    Event(SessionEvent),
    Notification(Outgoing),
    Retry,
    Options,
}

/// How a session is configured beyond its stream.
#[derive(Default)]
pub struct SessionConfig {
    /// Its remote's options, as they change; `None`: defaults.
    pub options: Option<watch::Receiver<RemoteOptions>>,
    /// The inactivity probe interval without an `inactivity_probe` option.
    pub default_probe_ms: u64,
    /// Where the session publishes its current client (for the remote's
    /// lock status).
    pub client_slot: Option<Arc<std::sync::Mutex<Option<ClientId>>>>,
}

impl SessionConfig {
    fn current(&self) -> RemoteOptions {
        self.options
            .as_ref()
            .map(|o| o.borrow().clone())
            .unwrap_or_default()
    }

    /// Applies the options to `session` and to its client.
    fn apply(&self, server: &Server, session: &mut Session, client: Option<ClientId>) {
        let o = self.current();
        session.set_probe_interval(o.inactivity_probe.unwrap_or(self.default_probe_ms));
        session.set_max_backoff(o.max_backoff.unwrap_or(rpc::reconnect::DEFAULT_MAX_BACKOFF));
        session.set_dscp(o.dscp.unwrap_or(rpc::DSCP_DEFAULT));
        if let Some(c) = client {
            server.set_access(c, o.read_only, &o.role);
        }
        if let Some(slot) = &self.client_slot {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = client;
        }
    }
}

/// Serves `session` with default options (see [`serve_session_with`]).
pub async fn serve_session(server: Arc<Server>, session: Session) {
    let probe = session.reconnect().probe_interval();
    let config = SessionConfig {
        default_probe_ms: probe,
        ..Default::default()
    };
    serve_session_with(server, session, config).await
}

/// Serves `session` until it closes (accepted connections) or forever
/// (reconnecting sessions to active remotes: each connection is a new
/// client).
pub async fn serve_session_with(
    server: Arc<Server>,
    mut session: Session,
    mut config: SessionConfig,
) {
    let mut client = None;
    let mut rx = None;
    if session.is_connected() {
        let (id, r) = server.connect(session.name());
        client = Some(id);
        rx = Some(r);
    }
    config.apply(&server, &mut session, client);
    let mut commits = server.commit_watch();
    let mut watching = config.options.is_some();
    let mut triggers: Vec<Trigger> = Vec::new();
    // An event read while collecting a batch, to be handled next.
    let mut next: Option<SessionEvent> = None;
    loop {
        let wake = if let Some(ev) = next.take() {
            Wake::Event(ev)
        } else {
            let deadline = triggers.iter().filter_map(|t| t.deadline).min();
            let waiting = !triggers.is_empty();
            tokio::select! {
                ev = session.next_event() => Wake::Event(ev),
                Some(m) = async {
                    match rx.as_mut() {
                        Some(r) => r.recv().await,
                        None => std::future::pending().await,
                    }
                } => Wake::Notification(m),
                r = commits.changed(), if waiting => match r {
                    Ok(()) => Wake::Retry,
                    Err(_) => break,
                },
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                } => Wake::Retry,
                r = async {
                    match config.options.as_mut() {
                        Some(o) => o.changed().await,
                        None => std::future::pending().await,
                    }
                }, if watching => match r {
                    Ok(()) => Wake::Options,
                    // No more changes: the last options stay.
                    Err(_) => {
                        watching = false;
                        continue;
                    }
                },
            }
        };
        match wake {
            Wake::Options => config.apply(&server, &mut session, client),
            Wake::Notification(o) => {
                let mut disconnect = None;
                apply_outgoing(o, &mut session, &mut triggers, &mut disconnect);
                if let Some(reason) = disconnect {
                    disconnect_now(&mut session, &reason).await;
                }
            }
            Wake::Retry => {
                let Some(id) = client else { continue };
                commits.borrow_and_update();
                let answers = retry(&server, id, &mut triggers);
                if !answers.is_empty() {
                    finish(&server, &mut session, rx.as_mut(), &mut triggers, answers).await;
                }
            }
            Wake::Event(SessionEvent::Connected) => {
                if let Some(old) = client.take() {
                    server.disconnect(old);
                }
                triggers.clear();
                let (id, r) = server.connect(session.name());
                client = Some(id);
                rx = Some(r);
                config.apply(&server, &mut session, client);
            }
            Wake::Event(SessionEvent::Message(msg)) => {
                let Some(id) = client else { continue };
                if triggers.is_empty() {
                    // Commits from now on may satisfy new triggers.
                    commits.borrow_and_update();
                }
                // Handle every request that has already arrived, then make
                // their commits durable with one fsync, then answer them all
                // (group commit: never a reply before its commit is on disk).
                let mut answers: Vec<(bool, Message)> = Vec::new();
                let mut msg = msg;
                for n in 1..=MAX_BATCH {
                    answers.extend(handle_new(&server, id, msg, &mut triggers));
                    if n == MAX_BATCH {
                        break;
                    }
                    match poll_once(session.next_event()) {
                        Some(SessionEvent::Message(m)) => msg = m,
                        Some(other) => {
                            next = Some(other);
                            break;
                        }
                        None => break,
                    }
                }
                finish(&server, &mut session, rx.as_mut(), &mut triggers, answers).await;
            }
            Wake::Event(SessionEvent::Disconnected) => {
                if let Some(old) = client.take() {
                    server.disconnect(old);
                }
                triggers.clear();
                rx = None;
                config.apply(&server, &mut session, None);
            }
            Wake::Event(SessionEvent::Closed) => break,
        }
    }
    if let Some(old) = client.take() {
        server.disconnect(old);
    }
    config.apply(&server, &mut session, None);
}

/// The value of `f` if it is ready at once (a request already received),
/// without waiting; `next_event` may be dropped unfinished (it is used in
/// `select!` too, so cancelling it loses nothing).
fn poll_once<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

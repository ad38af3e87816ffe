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
use super::{Handled, Outgoing, Server, Tagged};
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

/// A reply to send once its commits are durable.
struct Answer {
    /// The reply to a `transact` (replaced by the error if its commit
    /// could not be made durable).
    is_transact: bool,
    reply: Message,
    /// Only what the session was given for commits up to this number may
    /// go before the reply ([`Handled::ReplyAt`]); `None`: everything
    /// given so far goes first.
    upto: Option<u64>,
}

impl Answer {
    fn new(is_transact: bool, handled: Handled) -> Option<Answer> {
        let (reply, upto) = match handled {
            Handled::Reply(m) => (m, None),
            Handled::ReplyAt(m, seq) => (m, Some(seq)),
            Handled::Nothing | Handled::Blocked { .. } => return None,
        };
        Some(Answer {
            is_transact,
            reply,
            upto,
        })
    }
}

/// Handles `msg`: a reply to send, a new trigger, or nothing.
fn handle_new(
    server: &Server,
    client: ClientId,
    msg: Message,
    triggers: &mut Vec<Trigger>,
) -> Option<Answer> {
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
        handled => Answer::new(is_transact, handled),
    }
}

/// Tries every trigger again; the replies of those that completed.
fn retry(server: &Server, client: ClientId, triggers: &mut Vec<Trigger>) -> Vec<Answer> {
    let mut answers = Vec::new();
    let now = Instant::now();
    triggers.retain_mut(|t| {
        let elapsed = now.saturating_duration_since(t.started).as_millis() as u64;
        match server.handle(client, &t.msg, elapsed) {
            Handled::Blocked { timeout_ms } => {
                t.deadline = timeout_ms.map(|ms| t.started + Duration::from_millis(ms));
                true
            }
            handled => {
                answers.extend(Answer::new(true, handled));
                false
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

/// One thing [`finish`] sends or does.
enum Step {
    Given(Outgoing),
    Answer(Answer),
}

/// The order of `answers` (in request order) and of what the server gave
/// the session (`queued`, in the order given): each answer after what was
/// given for commits up to its `upto` (all of it without one), the rest
/// after the last answer. What was given keeps its order: one of a later
/// commit holds back those behind it.
fn interleave(answers: Vec<Answer>, queued: Vec<Tagged>) -> Vec<Step> {
    let mut queued = queued.into_iter().peekable();
    let mut steps = Vec::new();
    for a in answers {
        while let Some((_, o)) = queued.next_if(|(seq, _)| a.upto.is_none_or(|u| *seq <= u)) {
            steps.push(Step::Given(o));
        }
        steps.push(Step::Answer(a));
    }
    steps.extend(queued.map(|(_, o)| Step::Given(o)));
    steps
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
/// thread syncs them together with other sessions' commits), then sends
/// the answers in order, each after the notifications it must follow
/// (those of commits up to its `upto`, else all those queued so far), then
/// the notifications left (a transaction whose commit could not be made
/// durable gets the storage error instead of its result).
async fn finish(
    server: &Server,
    session: &mut Session,
    rx: Option<&mut mpsc::UnboundedReceiver<Tagged>>,
    triggers: &mut Vec<Trigger>,
    answers: Vec<Answer>,
) {
    let synced = server.durable(server.last_commit()).await;
    let mut disconnect = None;
    let mut queued = Vec::new();
    if let Some(r) = rx {
        while let Ok(t) = r.try_recv() {
            queued.push(t);
        }
    }
    for step in interleave(answers, queued) {
        match step {
            Step::Given(o) => apply_outgoing(o, session, triggers, &mut disconnect),
            Step::Answer(a) => match (&synced, a.is_transact, &a.reply) {
                (Err(e), true, Message::Reply { id, .. }) => {
                    session.send(&Message::error(e.to_json(), id.clone()));
                }
                _ => {
                    session.send(&a.reply);
                }
            },
        }
    }
    if let Some(reason) = disconnect {
        disconnect_now(session, &reason).await;
    }
}

/// What woke the session loop.
enum Wake {
    Event(SessionEvent),
    Notification(Tagged),
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
            Wake::Notification((_, o)) => {
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
                let mut answers: Vec<Answer> = Vec::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(id: u64, upto: Option<u64>) -> Answer {
        Answer {
            is_transact: false,
            reply: Message::reply(json!({}), json!(id)),
            upto,
        }
    }

    fn given(seq: u64, n: u64) -> Tagged {
        (
            seq,
            Outgoing::Message(Message::notify("update", vec![json!(n)])),
        )
    }

    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Answer(a) => format!("reply {}", a.reply.id().unwrap_or(&json!(null))),
                Step::Given(Outgoing::Message(m)) => match m {
                    Message::Notify { params, .. } => format!("update {}", params[0]),
                    _ => "?".into(),
                },
                Step::Given(_) => "other".into(),
            })
            .collect()
    }

    #[test]
    fn a_monitor_reply_goes_before_what_later_commits_gave() {
        // Reply 1 is a monitor's initial contents after commit 5; updates
        // 10 and 11 are of commits 5 and 6 (11 may be of that monitor).
        let steps = interleave(
            vec![answer(1, Some(5)), answer(2, None)],
            vec![given(5, 10), given(6, 11), given(7, 12)],
        );
        assert_eq!(
            names(&steps),
            ["update 10", "reply 1", "update 11", "update 12", "reply 2"]
        );
    }

    #[test]
    fn what_was_given_keeps_its_order() {
        // A lock notification given at commit 8 ahead of an update of
        // commit 4 (released later): both wait behind reply 1.
        let steps = interleave(
            vec![answer(1, Some(6))],
            vec![given(3, 10), given(8, 11), given(4, 12)],
        );
        assert_eq!(
            names(&steps),
            ["update 10", "reply 1", "update 11", "update 12"]
        );
    }

    #[test]
    fn without_a_bound_everything_given_goes_first() {
        let steps = interleave(vec![answer(1, None)], vec![given(9, 10), given(9, 11)]);
        assert_eq!(names(&steps), ["update 10", "update 11", "reply 1"]);
    }
}

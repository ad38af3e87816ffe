//! One client of the server: a JSON-RPC session whose requests go to
//! [`Server::handle`] and which also carries the notifications (monitor
//! updates, `locked`, `stolen`) the server queues for it. Inactivity probes
//! and `echo` come with [`rpc::Session`]. Transactions blocked by `wait`
//! stay pending as triggers while the session serves its other requests;
//! the `cancel` notification drops one.

use super::locks::ClientId;
use super::{Handled, Server};
use rpc::{Message, Session, SessionEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
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

/// Makes the commits of `answers` durable, sends the notifications they
/// caused, then the answers (a transaction whose commit could not be made
/// durable gets the storage error instead of its result).
fn finish(
    server: &Server,
    session: &mut Session,
    rx: Option<&mut mpsc::UnboundedReceiver<Message>>,
    answers: Vec<(bool, Message)>,
) {
    let synced = server.sync();
    if let Some(r) = rx {
        while let Ok(m) = r.try_recv() {
            session.send(&m);
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
}

/// What woke the session loop.
enum Wake {
    Event(SessionEvent),
    Notification(Message),
    Retry,
}

/// Serves `session` until it closes (accepted connections) or forever
/// (reconnecting sessions to active remotes: each connection is a new
/// client).
pub async fn serve_session(server: Arc<Server>, mut session: Session) {
    let mut client = None;
    let mut rx = None;
    if session.is_connected() {
        let (id, r) = server.connect(session.name());
        client = Some(id);
        rx = Some(r);
    }
    let mut commits = server.commit_watch();
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
            }
        };
        match wake {
            Wake::Notification(m) => {
                session.send(&m);
            }
            Wake::Retry => {
                let Some(id) = client else { continue };
                commits.borrow_and_update();
                let answers = retry(&server, id, &mut triggers);
                if !answers.is_empty() {
                    finish(&server, &mut session, rx.as_mut(), answers);
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
                finish(&server, &mut session, rx.as_mut(), answers);
            }
            Wake::Event(SessionEvent::Disconnected) => {
                if let Some(old) = client.take() {
                    server.disconnect(old);
                }
                triggers.clear();
                rx = None;
            }
            Wake::Event(SessionEvent::Closed) => break,
        }
    }
    if let Some(old) = client.take() {
        server.disconnect(old);
    }
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

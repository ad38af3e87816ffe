//! One client of the server: a JSON-RPC session whose requests go to
//! [`Server::handle`] and which also carries the notifications (monitor
//! updates, `locked`, `stolen`) the server queues for it. Inactivity probes
//! and `echo` come with [`rpc::Session`].

use super::{Handled, Server};
use rpc::{Message, Session, SessionEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The most requests handled between two fsyncs of one session.
const MAX_BATCH: usize = 256;

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
    // An event read while collecting a batch, to be handled next.
    let mut next: Option<SessionEvent> = None;
    loop {
        let event = if let Some(ev) = next.take() {
            ev
        } else {
            match rx.as_mut() {
                Some(r) => tokio::select! {
                    ev = session.next_event() => ev,
                    Some(m) = r.recv() => {
                        session.send(&m);
                        continue;
                    }
                },
                None => session.next_event().await,
            }
        };
        match event {
            SessionEvent::Connected => {
                if let Some(old) = client.take() {
                    server.disconnect(old);
                }
                let (id, r) = server.connect(session.name());
                client = Some(id);
                rx = Some(r);
            }
            SessionEvent::Message(msg) => {
                let Some(id) = client else { continue };
                // Handle every request that has already arrived, then make
                // their commits durable with one fsync, then answer them all
                // (group commit: never a reply before its commit is on disk).
                let mut answers: Vec<(bool, Message)> = Vec::new();
                let mut msg = msg;
                for n in 1..=MAX_BATCH {
                    let is_transact = msg.method() == Some("transact");
                    if let Some(reply) =
                        handle_blocking(&server, id, &msg, &mut session, rx.as_mut()).await
                    {
                        answers.push((is_transact, reply));
                    }
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
                let synced = server.sync();
                // Notifications the requests caused (monitor updates) go
                // before their replies.
                if let Some(r) = rx.as_mut() {
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
            SessionEvent::Disconnected => {
                if let Some(old) = client.take() {
                    server.disconnect(old);
                }
                rx = None;
            }
            SessionEvent::Closed => break,
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

/// Handles one message; a transaction blocked by `wait` is retried after
/// each commit or when its timeout expires, while notifications keep flowing.
async fn handle_blocking(
    server: &Arc<Server>,
    client: u64,
    msg: &Message,
    session: &mut Session,
    mut rx: Option<&mut tokio::sync::mpsc::UnboundedReceiver<Message>>,
) -> Option<Message> {
    let start = Instant::now();
    let mut commits = server.commit_watch();
    loop {
        let elapsed = start.elapsed().as_millis() as u64;
        match server.handle(client, msg, elapsed) {
            Handled::Reply(m) => return Some(m),
            Handled::Nothing => return None,
            Handled::Blocked { timeout_ms } => {
                let wait = timeout_ms
                    .map(|t| Duration::from_millis(t.saturating_sub(elapsed)))
                    .unwrap_or(Duration::from_secs(3600));
                let sleep = tokio::time::sleep(wait);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        r = commits.changed() => {
                            if r.is_err() { return None; }
                            break;
                        }
                        Some(m) = async {
                            match rx.as_mut() {
                                Some(r) => r.recv().await,
                                None => std::future::pending().await,
                            }
                        } => {
                            session.send(&m);
                            session.flush().await;
                        }
                    }
                }
            }
        }
    }
}

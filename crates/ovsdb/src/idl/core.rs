//! The IDL protocol engine, without I/O: what to send after connecting,
//! how to handle each received message, and which transactions and locks
//! are outstanding.
//!
//! Life of a connection: [`IdlCore::connected`] queues `get_schema` (and
//! `lock` if one is wanted); the schema reply creates the [`Replica`] (or
//! keeps the existing one if the schema did not change) and queues
//! `monitor_cond_since` with the last transaction id seen, so that a
//! reconnection only fetches what changed. A server that does not know a
//! method gets the next older one (`monitor_cond`, then `monitor`), and the
//! replica is reloaded from scratch. Once the monitor reply is applied the
//! core is *synced*. [`IdlCore::disconnected`] fails outstanding
//! transactions with [`TxnStatus::TryAgain`] and drops lock ownership.

use super::replica::{MonitorSpec, Replica, UpdateFormat};
use super::txn::{Txn, TxnOutcome, TxnPlan, TxnStatus};
use crate::error::Error;
use crate::json;
use crate::schema::DatabaseSchema;
use crate::uuid::Uuid;
use rpc::Message;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};

/// Identifies a transaction passed to [`IdlCore::commit`].
pub type TxnHandle = u64;

/// Something the caller may want to react to.
#[derive(Clone, Debug, PartialEq)]
pub enum IdlEvent {
    /// The replica holds the database's current contents (after every
    /// (re)connection).
    Synced,
    /// An update notification was applied.
    Updated,
    /// The wanted lock is now held.
    LockAcquired(String),
    /// Another client stole the lock.
    LockLost(String),
    /// A transaction finished.
    TxnDone(TxnHandle, TxnOutcome),
    /// The server answered with something unusable; the connection should
    /// be dropped and reopened.
    ProtocolError(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MonitorMethod {
    Since,
    Cond,
    Plain,
}

impl MonitorMethod {
    fn name(self) -> &'static str {
        match self {
            MonitorMethod::Since => "monitor_cond_since",
            MonitorMethod::Cond => "monitor_cond",
            MonitorMethod::Plain => "monitor",
        }
    }
}

enum Pending {
    Schema,
    Monitor(MonitorMethod),
    Lock,
    Txn(TxnHandle, TxnPlan),
    /// Replies we need not look at (`unlock`).
    Ignore,
}

/// The protocol engine of one IDL.
pub struct IdlCore {
    db: String,
    spec: MonitorSpec,
    replica: Option<Replica>,
    method: MonitorMethod,
    synced: bool,
    pending: HashMap<String, Pending>,
    outbox: Vec<Message>,
    events: VecDeque<IdlEvent>,
    lock_name: Option<String>,
    has_lock: bool,
    next_handle: TxnHandle,
}

/// A request id as a map key.
fn id_key(id: &Value) -> String {
    json::to_string(id, true)
}

fn monitor_id(db: &str) -> Value {
    json!(["monid", db])
}

impl IdlCore {
    /// An engine for database `db` that will monitor `spec`.
    pub fn new(db: &str, spec: MonitorSpec) -> IdlCore {
        IdlCore {
            db: db.to_string(),
            spec,
            replica: None,
            method: MonitorMethod::Since,
            synced: false,
            pending: HashMap::new(),
            outbox: Vec::new(),
            events: VecDeque::new(),
            lock_name: None,
            has_lock: false,
            next_handle: 1,
        }
    }

    pub fn db(&self) -> &str {
        &self.db
    }

    /// The replica (none before the first schema reply).
    pub fn replica(&self) -> Option<&Replica> {
        self.replica.as_ref()
    }

    pub fn replica_mut(&mut self) -> Option<&mut Replica> {
        self.replica.as_mut()
    }

    /// True once the replica holds the current contents on this connection.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// The server's schema, once known.
    pub fn schema(&self) -> Option<&DatabaseSchema> {
        self.replica.as_ref().map(Replica::schema)
    }

    fn send(&mut self, msg: Message, what: Pending) {
        if let Some(id) = msg.id() {
            self.pending.insert(id_key(id), what);
        }
        self.outbox.push(msg);
    }

    /// Messages to send, in order.
    pub fn take_outbox(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.outbox)
    }

    pub fn poll_event(&mut self) -> Option<IdlEvent> {
        self.events.pop_front()
    }

    /// Call after each (re)connection.
    pub fn connected(&mut self) {
        self.pending.clear();
        self.outbox.clear();
        self.synced = false;
        self.send(
            Message::request("get_schema", vec![Value::String(self.db.clone())]),
            Pending::Schema,
        );
        if let Some(name) = self.lock_name.clone() {
            self.send(
                Message::request("lock", vec![Value::String(name)]),
                Pending::Lock,
            );
        }
    }

    /// Call when the connection is lost.
    pub fn disconnected(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let mut handles: Vec<TxnHandle> = pending
            .into_values()
            .filter_map(|p| match p {
                Pending::Txn(h, _) => Some(h),
                _ => None,
            })
            .collect();
        handles.sort_unstable();
        for h in handles {
            self.events.push_back(IdlEvent::TxnDone(
                h,
                TxnOutcome::with_status(TxnStatus::TryAgain),
            ));
        }
        self.outbox.clear();
        self.synced = false;
        if self.has_lock {
            self.has_lock = false;
            if let Some(n) = &self.lock_name {
                self.events.push_back(IdlEvent::LockLost(n.clone()));
            }
        }
    }

    /// Wants lock `name` (or none): queues `lock`/`unlock` as needed.
    pub fn set_lock(&mut self, name: Option<&str>) {
        if self.lock_name.as_deref() == name {
            return;
        }
        if let Some(old) = self.lock_name.take() {
            self.send(
                Message::request("unlock", vec![Value::String(old)]),
                Pending::Ignore,
            );
            self.has_lock = false;
        }
        if let Some(n) = name {
            self.lock_name = Some(n.to_string());
            self.send(
                Message::request("lock", vec![Value::String(n.to_string())]),
                Pending::Lock,
            );
        }
    }

    /// True if the wanted lock is held.
    pub fn has_lock(&self) -> bool {
        self.has_lock
    }

    pub fn lock_name(&self) -> Option<&str> {
        self.lock_name.as_deref()
    }

    /// Starts a transaction. `Ok(None)` means it finished at once
    /// ([`TxnStatus::Unchanged`]); otherwise its [`IdlEvent::TxnDone`]
    /// comes later.
    pub fn commit(&mut self, txn: &Txn) -> Result<Option<TxnHandle>, Error> {
        let Some(replica) = self.replica.as_ref() else {
            return Err(Error::new("not connected", "database not yet synced"));
        };
        let Some((msg, plan)) = txn.build(replica, &self.db)? else {
            return Ok(None);
        };
        let h = self.next_handle;
        self.next_handle += 1;
        self.send(msg, Pending::Txn(h, plan));
        Ok(Some(h))
    }

    fn protocol_error(&mut self, text: String) {
        vlog::warn!("ovsdb_idl", "{}", text);
        self.events.push_back(IdlEvent::ProtocolError(text));
    }

    /// Handles one received message.
    pub fn receive(&mut self, msg: Message) {
        match msg {
            Message::Request { method, params, id } => {
                if method == "echo" {
                    self.outbox.push(Message::reply(Value::Array(params), id));
                }
            }
            Message::Notify { method, params } => self.notification(&method, &params),
            Message::Reply { result, id } => {
                if let Some(p) = self.pending.remove(&id_key(&id)) {
                    self.reply(p, Ok(result));
                }
            }
            Message::Error { error, id } => {
                if let Some(p) = self.pending.remove(&id_key(&id)) {
                    self.reply(p, Err(error));
                }
            }
        }
    }

    fn notification(&mut self, method: &str, params: &[Value]) {
        let mid = monitor_id(&self.db);
        match (method, params) {
            ("update" | "update2", [id, updates]) if *id == mid => {
                let format = if method == "update" {
                    UpdateFormat::V1
                } else {
                    UpdateFormat::V2
                };
                self.apply(updates, format, None);
            }
            ("update3", [id, last, updates]) if *id == mid => {
                let last = last.as_str().and_then(Uuid::parse);
                self.apply(updates, UpdateFormat::V2, last);
            }
            ("locked", [name]) if name.as_str() == self.lock_name.as_deref() => {
                self.has_lock = true;
                self.events.push_back(IdlEvent::LockAcquired(
                    name.as_str().unwrap_or("").to_string(),
                ));
            }
            ("stolen", [name]) if name.as_str() == self.lock_name.as_deref() => {
                self.has_lock = false;
                self.events
                    .push_back(IdlEvent::LockLost(name.as_str().unwrap_or("").to_string()));
            }
            _ => {}
        }
    }

    fn apply(&mut self, updates: &Value, format: UpdateFormat, last: Option<Uuid>) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        match r.apply_updates(updates, format) {
            Ok(()) => {
                if let Some(l) = last {
                    r.set_last_id(l);
                }
                self.events.push_back(IdlEvent::Updated);
            }
            Err(e) => self.protocol_error(format!("bad update: {}", e.details.unwrap_or(e.tag))),
        }
    }

    fn send_monitor(&mut self) {
        let Some(r) = self.replica.as_ref() else {
            return;
        };
        let requests = r.monitor_requests(&self.spec, self.method != MonitorMethod::Plain);
        let mut params = vec![
            Value::String(self.db.clone()),
            monitor_id(&self.db),
            requests,
        ];
        if self.method == MonitorMethod::Since {
            params.push(Value::String(r.last_id().to_string()));
        }
        let msg = Message::request(self.method.name(), params);
        self.send(msg, Pending::Monitor(self.method));
    }

    fn reply(&mut self, p: Pending, result: Result<Value, Value>) {
        match (p, result) {
            (Pending::Schema, Ok(schema_json)) => match DatabaseSchema::from_json(&schema_json) {
                Ok(schema) => {
                    let same = self.replica.as_ref().is_some_and(|r| *r.schema() == schema);
                    if !same {
                        self.replica = Some(Replica::new(schema, &self.spec));
                    }
                    self.send_monitor();
                }
                Err(e) => self.protocol_error(format!(
                    "{}: bad schema: {}",
                    self.db,
                    e.details.unwrap_or(e.tag)
                )),
            },
            (Pending::Schema, Err(e)) => {
                self.protocol_error(format!("get_schema failed: {}", json::to_string(&e, true)))
            }
            (Pending::Monitor(m), Ok(result)) => {
                let Some(r) = self.replica.as_mut() else {
                    return;
                };
                let applied = match m {
                    MonitorMethod::Since => r.apply_since_reply(&result),
                    MonitorMethod::Cond => {
                        r.clear();
                        r.apply_updates(&result, UpdateFormat::V2)
                    }
                    MonitorMethod::Plain => {
                        r.clear();
                        r.apply_updates(&result, UpdateFormat::V1)
                    }
                };
                match applied {
                    Ok(()) => {
                        self.synced = true;
                        self.events.push_back(IdlEvent::Synced);
                    }
                    Err(e) => self.protocol_error(format!(
                        "bad {} reply: {}",
                        m.name(),
                        e.details.unwrap_or(e.tag)
                    )),
                }
            }
            (Pending::Monitor(m), Err(e)) => {
                let next = match m {
                    MonitorMethod::Since => Some(MonitorMethod::Cond),
                    MonitorMethod::Cond => Some(MonitorMethod::Plain),
                    MonitorMethod::Plain => None,
                };
                match next {
                    Some(n) => {
                        self.method = n;
                        self.send_monitor();
                    }
                    None => self.protocol_error(format!(
                        "{} failed: {}",
                        m.name(),
                        json::to_string(&e, true)
                    )),
                }
            }
            (Pending::Lock, Ok(result)) => {
                if result.get("locked").and_then(Value::as_bool) == Some(true) {
                    self.has_lock = true;
                    if let Some(n) = &self.lock_name {
                        self.events.push_back(IdlEvent::LockAcquired(n.clone()));
                    }
                }
            }
            (Pending::Lock, Err(_)) | (Pending::Ignore, _) => {}
            (Pending::Txn(h, plan), result) => {
                let msg = match result {
                    Ok(r) => Message::reply(r, Value::Null),
                    Err(e) => Message::error(e, Value::Null),
                };
                self.events
                    .push_back(IdlEvent::TxnDone(h, plan.outcome(&msg)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idl::replica::tests_support::schema_json;

    fn reply_to(core: &mut IdlCore, method: &str, result: Value) -> Vec<Message> {
        let out = core.take_outbox();
        let req = out
            .iter()
            .find(|m| m.method() == Some(method))
            .unwrap_or_else(|| panic!("no {method} in {out:?}"));
        core.receive(Message::reply(result, req.id().unwrap().clone()));
        out
    }

    fn error_to(core: &mut IdlCore, method: &str) {
        let out = core.take_outbox();
        let req = out.iter().find(|m| m.method() == Some(method)).unwrap();
        core.receive(Message::error(
            json!("unknown method"),
            req.id().unwrap().clone(),
        ));
    }

    #[test]
    fn connect_sync_update_and_resync() {
        let mut core = IdlCore::new(
            "D",
            MonitorSpec::all(&DatabaseSchema::from_json(&schema_json()).unwrap()),
        );
        core.connected();
        reply_to(&mut core, "get_schema", schema_json());
        let u1 = Uuid([1; 16]).to_string();
        let last = Uuid([7; 16]).to_string();
        reply_to(
            &mut core,
            "monitor_cond_since",
            json!([false, last.clone(), {"P": {u1.clone(): {"initial": {"name": "a"}}}}]),
        );
        assert!(core.is_synced());
        assert_eq!(core.poll_event(), Some(IdlEvent::Synced));
        core.receive(Message::notify(
            "update3",
            vec![
                json!(["monid", "D"]),
                json!(Uuid([8; 16]).to_string()),
                json!({"P": {u1.clone(): {"modify": {"name": "b"}}}}),
            ],
        ));
        assert_eq!(core.poll_event(), Some(IdlEvent::Updated));
        assert_eq!(core.replica().unwrap().last_id(), Uuid([8; 16]));

        // Reconnect: the monitor request carries the last id.
        core.disconnected();
        core.connected();
        reply_to(&mut core, "get_schema", schema_json());
        let out = core.take_outbox();
        let Some(Message::Request { params, .. }) = out.first() else {
            panic!()
        };
        assert_eq!(params[3], json!(Uuid([8; 16]).to_string()));
        core.receive(Message::reply(
            json!([true, Uuid([8; 16]).to_string(), {}]),
            out[0].id().unwrap().clone(),
        ));
        assert!(core.is_synced());
        assert!(core.replica().unwrap().row("P", &Uuid([1; 16])).is_some());
    }

    #[test]
    fn falls_back_to_older_monitor_methods() {
        let mut core = IdlCore::new(
            "D",
            MonitorSpec::all(&DatabaseSchema::from_json(&schema_json()).unwrap()),
        );
        core.connected();
        reply_to(&mut core, "get_schema", schema_json());
        error_to(&mut core, "monitor_cond_since");
        error_to(&mut core, "monitor_cond");
        let u = Uuid([2; 16]).to_string();
        reply_to(
            &mut core,
            "monitor",
            json!({"P": {u: {"new": {"name": "x"}}}}),
        );
        assert!(core.is_synced());
        assert_eq!(core.replica().unwrap().table("P").unwrap().len(), 1);
    }

    #[test]
    fn locks_transactions_echo_and_disconnect() {
        let mut core = IdlCore::new(
            "D",
            MonitorSpec::all(&DatabaseSchema::from_json(&schema_json()).unwrap()),
        );
        core.set_lock(Some("L"));
        core.connected();
        let out = reply_to(&mut core, "lock", json!({"locked": false}));
        assert!(out.iter().any(|m| m.method() == Some("get_schema")));
        assert!(!core.has_lock());
        core.receive(Message::notify("locked", vec![json!("L")]));
        assert!(core.has_lock());
        assert_eq!(core.poll_event(), Some(IdlEvent::LockAcquired("L".into())));
        // get_schema was already taken from the outbox above; answer it.
        let Some(req) = out.iter().find(|m| m.method() == Some("get_schema")) else {
            panic!()
        };
        core.receive(Message::reply(schema_json(), req.id().unwrap().clone()));
        reply_to(
            &mut core,
            "monitor_cond_since",
            json!([false, Uuid::ZERO.to_string(), {}]),
        );
        while core.poll_event().is_some() {}

        core.receive(Message::Request {
            method: "echo".into(),
            params: vec![json!(1)],
            id: json!("e"),
        });
        assert_eq!(
            core.take_outbox(),
            vec![Message::reply(json!([1]), json!("e"))]
        );

        let mut txn = Txn::new();
        let r = core.replica().unwrap().clone();
        txn.insert(&r, "P").unwrap();
        let h = core.commit(&txn).unwrap().unwrap();
        core.disconnected();
        assert_eq!(
            core.poll_event(),
            Some(IdlEvent::TxnDone(
                h,
                TxnOutcome::with_status(TxnStatus::TryAgain)
            ))
        );
        assert_eq!(core.poll_event(), Some(IdlEvent::LockLost("L".into())));
        assert!(core.commit(&Txn::new()).unwrap().is_none());
    }
}

//! The client's one JSON-RPC connection: opening it with upstream's error
//! texts, blocking request/reply, and the requests most commands share
//! (`list_dbs`, `get_schema`, `transact`).

use super::{fatal, Fatal};
use ovsdb::DatabaseSchema;
use rpc::blocking::{Client, ClientError, OpenError};
use rpc::Message;
use serde_json::Value;

/// An open connection to the server.
pub struct Conn {
    pub client: Client,
}

impl Conn {
    /// Connects to `server` (`unix:PATH`, `tcp:HOST[:PORT]`).
    pub fn open(server: &str) -> Result<Conn, Fatal> {
        if rpc::address::is_passive_name(server) {
            return fatal!(
                "failed to connect or listen to \"{server}\" ({})",
                rpc::errno::strerror(libc::EAFNOSUPPORT)
            );
        }
        match Client::open(server, Some(rpc::address::OVSDB_PORT)) {
            Ok(client) => Ok(Conn { client }),
            Err(OpenError::Address(e)) if e.errno() == libc::EAFNOSUPPORT => fatal!(
                "failed to connect or listen to \"{server}\" ({})",
                rpc::errno::strerror(e.errno())
            ),
            Err(OpenError::Address(e)) => fatal!(
                "failed to connect to \"{server}\" ({})",
                rpc::errno::strerror(e.errno())
            ),
            Err(OpenError::Io(e)) => fatal!(
                "failed to connect to \"{server}\" ({})",
                rpc::errno::io_error_text(&e)
            ),
        }
    }

    /// Sends `method(params)` and waits for its answer.
    pub fn call(&mut self, method: &str, params: Vec<Value>) -> Result<Message, ClientError> {
        self.client.transact(&Message::request(method, params))
    }

    /// A request whose failures end the program as upstream's `check_txn`:
    /// "transaction failed (reason)" or "transaction returned error: ...".
    pub fn call_checked(&mut self, method: &str, params: Vec<Value>) -> Result<Value, Fatal> {
        match self.call(method, params) {
            Err(e) => fatal!("transaction failed ({e})"),
            Ok(Message::Reply { result, .. }) => Ok(result),
            Ok(Message::Error { error, .. }) => fatal!(
                "transaction returned error: {}",
                ovsdb::json::to_string(&error, true)
            ),
            Ok(_) => fatal!(
                "transaction failed ({})",
                ClientError::Protocol(String::new())
            ),
        }
    }

    /// The database names the server offers, sorted (servers list them
    /// in the order of their hash tables; upstream's client sorts them).
    pub fn list_dbs(&mut self) -> Result<Vec<String>, Fatal> {
        let result = self.call_checked("list_dbs", Vec::new())?;
        let Some(items) = result.as_array() else {
            return fatal!("list_dbs response is not array");
        };
        let mut names = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => names.push(s.to_string()),
                None => return fatal!("list_dbs response {i} is not string"),
            }
        }
        names.sort();
        Ok(names)
    }

    /// The schema JSON of `database` as the server sent it.
    pub fn schema_json(&mut self, database: &str) -> Result<Value, Fatal> {
        self.call_checked("get_schema", vec![Value::String(database.into())])
    }

    /// The parsed schema of `database`.
    pub fn schema(&mut self, database: &str) -> Result<DatabaseSchema, Fatal> {
        let json = self.schema_json(database)?;
        match DatabaseSchema::from_json(&json) {
            Ok(s) => Ok(s),
            Err(e) => fatal!("{e}"),
        }
    }

    /// Runs a transaction and returns its result array.
    pub fn transact(&mut self, txn: Value) -> Result<Value, Fatal> {
        let params = match txn {
            Value::Array(a) => a,
            other => vec![other],
        };
        self.call_checked("transact", params)
    }
}

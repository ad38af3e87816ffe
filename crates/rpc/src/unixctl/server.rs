//! The unixctl server: a daemon's control socket (`punix:`), on which
//! `ovs-appctl` sends JSON-RPC requests whose method is a command name and
//! whose params are string arguments; the reply's result (or error) is the
//! command's text, always ending in a newline.
//!
//! Commands are registered with a usage string, an argument count range
//! and a handler returning `Ok(text)` or `Err(text)`; async handlers may
//! take their time (the connection waits, others are served). Built-ins:
//! `list-commands` and `version`, as upstream (upstream has no `help`).

use crate::connection::{Connection, ConnectionError};
use crate::message::Message;
use crate::paths;
use crate::stream::bind_unix_std;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The version daemons report (`PROGRAM (Open vSwitch) VERSION`).
pub const OVS_VERSION: &str = "3.1.0";

/// What a command answers: `Ok` text is printed on stdout by `ovs-appctl`,
/// `Err` text on stderr (exit status 2).
pub type CommandResult = Result<String, String>;

/// A boxed future of a command's result.
pub type CommandFuture = Pin<Box<dyn Future<Output = CommandResult> + Send>>;

type SyncHandler = Arc<dyn Fn(&[String]) -> CommandResult + Send + Sync>;
type AsyncHandler = Arc<dyn Fn(Vec<String>) -> CommandFuture + Send + Sync>;

#[derive(Clone)]
enum Handler {
    Sync(SyncHandler),
    Async(AsyncHandler),
}

/// Runs after a command's reply has been written (e.g. `exit`).
pub type AfterReply = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
struct Command {
    usage: String,
    min_args: usize,
    max_args: usize,
    handler: Handler,
    after: Option<AfterReply>,
}

/// The table of commands, shared by the server and whoever registers.
/// Cloning gives another handle on the same table.
#[derive(Clone, Default)]
pub struct Commands {
    table: Arc<Mutex<BTreeMap<String, Command>>>,
}

fn lock(
    t: &Mutex<BTreeMap<String, Command>>,
) -> std::sync::MutexGuard<'_, BTreeMap<String, Command>> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

impl Commands {
    /// An empty table.
    pub fn new() -> Commands {
        Commands::default()
    }

    fn insert(&self, name: &str, usage: &str, min_args: usize, max_args: usize, handler: Handler) {
        lock(&self.table).insert(
            name.to_string(),
            Command {
                usage: usage.to_string(),
                min_args,
                max_args,
                handler,
                after: None,
            },
        );
    }

    /// Registers a synchronous command and an action run once its
    /// successful reply has been written to the requester (for `exit`:
    /// the client gets its answer before the daemon goes away).
    pub fn register_then<F, A>(
        &self,
        name: &str,
        usage: &str,
        min_args: usize,
        max_args: usize,
        f: F,
        after: A,
    ) where
        F: Fn(&[String]) -> CommandResult + Send + Sync + 'static,
        A: Fn() + Send + Sync + 'static,
    {
        lock(&self.table).insert(
            name.to_string(),
            Command {
                usage: usage.to_string(),
                min_args,
                max_args,
                handler: Handler::Sync(Arc::new(f)),
                after: Some(Arc::new(after)),
            },
        );
    }

    /// Registers (or replaces) a command answered synchronously. The
    /// handler gets the arguments after the command name.
    pub fn register<F>(&self, name: &str, usage: &str, min_args: usize, max_args: usize, f: F)
    where
        F: Fn(&[String]) -> CommandResult + Send + Sync + 'static,
    {
        self.insert(name, usage, min_args, max_args, Handler::Sync(Arc::new(f)));
    }

    /// Registers a command whose answer comes later (the requester waits).
    pub fn register_async<F, Fut>(
        &self,
        name: &str,
        usage: &str,
        min_args: usize,
        max_args: usize,
        f: F,
    ) where
        F: Fn(Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CommandResult> + Send + 'static,
    {
        let h: AsyncHandler = Arc::new(move |args| Box::pin(f(args)));
        self.insert(name, usage, min_args, max_args, Handler::Async(h));
    }

    /// Removes a command.
    pub fn unregister(&self, name: &str) {
        lock(&self.table).remove(name);
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        lock(&self.table).keys().cloned().collect()
    }

    /// The text of `list-commands`.
    pub fn list_text(&self) -> String {
        let mut s = String::from("The available commands are:\n");
        for (name, c) in lock(&self.table).iter() {
            s.push_str(&format!("  {name:<23} {}\n", c.usage));
        }
        s
    }

    /// Runs `method` with JSON `params`, with upstream's checks and texts.
    pub async fn execute(&self, method: &str, params: &[Value]) -> CommandResult {
        self.execute_full(method, params).await.0
    }

    async fn execute_full(
        &self,
        method: &str,
        params: &[Value],
    ) -> (CommandResult, Option<AfterReply>) {
        let command = lock(&self.table).get(method).cloned();
        let after = command.as_ref().and_then(|c| c.after.clone());
        let result = self.run(method, params, command).await;
        let after = if result.is_ok() { after } else { None };
        (result, after)
    }

    async fn run(&self, method: &str, params: &[Value], command: Option<Command>) -> CommandResult {
        let Some(command) = command else {
            return Err(format!(
                "\"{method}\" is not a valid command (use \"list-commands\" to see a list of valid commands)"
            ));
        };
        if params.len() < command.min_args {
            return Err(format!(
                "\"{method}\" command requires at least {} arguments",
                command.min_args
            ));
        }
        if params.len() > command.max_args {
            return Err(format!(
                "\"{method}\" command takes at most {} arguments",
                command.max_args
            ));
        }
        let mut args = Vec::with_capacity(params.len());
        for p in params {
            match p {
                Value::String(s) => args.push(s.clone()),
                _ => return Err(format!("\"{method}\" command has non-string argument")),
            }
        }
        match command.handler {
            Handler::Sync(f) => f(&args),
            Handler::Async(f) => f(args).await,
        }
    }
}

/// Adds the trailing newline upstream guarantees on non-empty bodies.
fn body_text(s: String) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s
    } else {
        s + "\n"
    }
}

/// The default control socket of `program`: `<rundir>/<program>.<pid>.ctl`.
pub fn default_socket_path(program: &str) -> PathBuf {
    paths::rundir().join(format!("{program}.{}.ctl", std::process::id()))
}

/// A daemon's control socket.
pub struct UnixctlServer {
    path: PathBuf,
    listener: Option<std::os::unix::net::UnixListener>,
    commands: Commands,
}

static CONN_SEQ: AtomicU64 = AtomicU64::new(0);

impl UnixctlServer {
    /// Creates the socket for `program`: at `path` when given (relative
    /// paths are under the run directory), else at [`default_socket_path`].
    /// `--unixctl=none` means no server: returns `Ok(None)`. Registers
    /// `list-commands` and `version`. Needs no runtime until [`run`](Self::run).
    pub fn create(path: Option<&str>, program: &str) -> io::Result<Option<UnixctlServer>> {
        let path = match path {
            Some("none") => return Ok(None),
            Some(p) => paths::abs_file_name(&paths::rundir(), p),
            None => default_socket_path(program),
        };
        let listener = bind_unix_std(&path).inspect_err(|e| {
            vlog::err!(
                "unixctl",
                "{}: binding failed: {}",
                path.display(),
                crate::errno::io_error_text(e)
            );
        })?;
        let commands = Commands::new();
        // A weak handle: the table must not own itself.
        let table = Arc::downgrade(&commands.table);
        commands.register("list-commands", "", 0, 0, move |_| {
            Ok(table
                .upgrade()
                .map(|table| Commands { table }.list_text())
                .unwrap_or_default())
        });
        let version = format!("{program} (Open vSwitch) {OVS_VERSION}\n");
        commands.register("version", "", 0, 0, move |_| Ok(version.clone()));
        Ok(Some(UnixctlServer {
            path,
            listener: Some(listener),
            commands,
        }))
    }

    /// Where the socket is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The command table (clone it to register from elsewhere).
    pub fn commands(&self) -> &Commands {
        &self.commands
    }

    /// Serves connections until the listener fails; each connection runs on
    /// its own task. Must run inside a tokio runtime.
    pub async fn run(mut self) -> io::Result<()> {
        let std_listener = self
            .listener
            .take()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let listener = tokio::net::UnixListener::from_std(std_listener)?;
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Transient accept errors (EMFILE, ECONNABORTED): keep going.
                    vlog::warn!(
                        "unixctl",
                        "accept failed: {}",
                        crate::errno::io_error_text(&e)
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let name = format!("unix#{}", CONN_SEQ.fetch_add(1, Ordering::Relaxed));
            let conn = Connection::new(Box::new(stream), name);
            tokio::spawn(serve_connection(conn, self.commands.clone()));
        }
    }
}

impl Drop for UnixctlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Answers requests on one connection, one at a time, until it ends.
pub async fn serve_connection(mut conn: Connection, commands: Commands) {
    loop {
        let msg = match conn.recv().await {
            Ok(m) => m,
            Err(ConnectionError::Eof) => return,
            Err(e) => {
                if !matches!(e, ConnectionError::Protocol(_)) {
                    vlog::dbg!("unixctl", "{}: connection error: {e}", conn.name());
                }
                return;
            }
        };
        let Message::Request { method, params, id } = msg else {
            vlog::warn!(
                "unixctl",
                "{}: received unexpected {} message",
                conn.name(),
                msg.type_name()
            );
            return;
        };
        vlog::dbg!(
            "unixctl",
            "received request {method}{}, id={id}",
            Value::Array(params.clone())
        );
        let (result, after) = commands.execute_full(&method, &params).await;
        let reply = match result {
            Ok(text) => {
                let text = body_text(text);
                vlog::dbg!("unixctl", "replying with success, id={id}: \"{text}\"");
                Message::reply(Value::String(text), id)
            }
            Err(text) => {
                let text = body_text(text);
                vlog::dbg!("unixctl", "replying with error, id={id}: \"{text}\"");
                Message::error(Value::String(text), id)
            }
        };
        let sent = conn.send(&reply).await;
        if let Some(after) = after {
            after();
        }
        if sent.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Commands {
        let c = Commands::new();
        c.register("exit", "", 0, 0, |_| Ok(String::new()));
        c.register("ovsdb-server/add-remote", "REMOTE", 1, 1, |a| {
            Ok(a[0].clone())
        });
        c.register("coverage/read-counter", "COUNTER", 1, 1, |_| {
            Err("no".into())
        });
        c
    }

    #[test]
    fn list_commands_layout() {
        assert_eq!(
            table().list_text(),
            "The available commands are:\n  coverage/read-counter   COUNTER\n  exit                    \n  ovsdb-server/add-remote REMOTE\n"
        );
    }

    #[tokio::test]
    async fn argument_checks_use_upstream_texts() {
        let c = table();
        assert_eq!(
            c.execute("help", &[]).await,
            Err("\"help\" is not a valid command (use \"list-commands\" to see a list of valid commands)".into())
        );
        assert_eq!(
            c.execute("ovsdb-server/add-remote", &[]).await,
            Err("\"ovsdb-server/add-remote\" command requires at least 1 arguments".into())
        );
        assert_eq!(
            c.execute("exit", &[json!("x")]).await,
            Err("\"exit\" command takes at most 0 arguments".into())
        );
        assert_eq!(
            c.execute("ovsdb-server/add-remote", &[json!(1)]).await,
            Err("\"ovsdb-server/add-remote\" command has non-string argument".into())
        );
        assert_eq!(
            c.execute("ovsdb-server/add-remote", &[json!("ptcp:1")])
                .await,
            Ok("ptcp:1".into())
        );
    }

    #[tokio::test]
    async fn async_commands() {
        let c = Commands::new();
        c.register_async("slow", "", 0, 1, |args: Vec<String>| async move {
            tokio::task::yield_now().await;
            Ok(format!("{} args", args.len()))
        });
        assert_eq!(c.execute("slow", &[json!("a")]).await, Ok("1 args".into()));
    }

    #[test]
    fn bodies_end_in_newline() {
        assert_eq!(body_text("x".into()), "x\n");
        assert_eq!(body_text("x\n".into()), "x\n");
        assert_eq!(body_text(String::new()), "");
    }
}

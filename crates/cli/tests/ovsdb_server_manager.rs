//! Remotes from the database (`--remote=db:Open_vSwitch,Open_vSwitch,
//! manager_options`): the server listens and connects where the Manager
//! rows say, and writes each remote's state back into `is_connected` and
//! `status` as upstream's does. Compared with the reference server.
//! Skips without the reference.

use std::os::unix::net::UnixStream;
use std::time::Duration;
use testkit::{Sandbox, Stack};

/// The Manager rows as `target is_connected status`, sorted, once every
/// remote has reported (the listener with a client connected, the bound
/// TCP port, the failing outgoing connection).
fn manager_rows(sb: &Sandbox) -> Vec<String> {
    let msock = sb.path("m.sock");
    sb.vsctl(&[
        "--no-wait",
        "set-manager",
        "ptcp:0:127.0.0.1",
        "tcp:127.0.0.1:1",
        &format!("punix:{msock}"),
    ])
    .unwrap();
    let mut client = None;
    let mut rows = Vec::new();
    let ok = sb.wait_until(Duration::from_secs(30), || {
        if client.is_none() {
            client = UnixStream::connect(&msock).ok();
        }
        let out = sb
            .vsctl(&[
                "--no-wait",
                "--bare",
                "--columns=target,is_connected,status",
                "list",
                "Manager",
            ])
            .unwrap_or_default();
        rows = out
            .split("\n\n")
            .map(|r| {
                let r = r.trim().replace('\n', " ");
                // The port bound for ptcp:0 differs from run to run.
                match r.find("bound_port=") {
                    Some(i) => {
                        let rest = &r[i + 11..];
                        let end = rest.find([' ', ',']).unwrap_or(rest.len());
                        format!("{}bound_port=PORT{}", &r[..i], &rest[end..])
                    }
                    None => r,
                }
            })
            .filter(|r| !r.is_empty())
            .collect();
        rows.sort();
        rows.len() == 3
            && rows.iter().any(|r| r.contains("m.sock true"))
            && rows.iter().any(|r| r.contains("bound_port=PORT"))
            && rows.iter().any(|r| r.contains("state=BACKOFF"))
    });
    assert!(ok, "status never complete: {rows:?}");
    drop(client);
    rows.iter()
        .map(|r| r.replace(&sb.dir.to_string_lossy().into_owned(), "DIR"))
        .collect()
}

#[test]
fn manager_status_written_back_like_upstream() {
    if testkit::skip_without_upstream("manager_status_written_back_like_upstream") {
        return;
    }
    let up = Sandbox::start_db_only("mgr-up");
    let ours = Sandbox::start_stack(
        "mgr-ours",
        Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")),
        false,
    );
    let want = manager_rows(&up);
    let got = manager_rows(&ours);
    assert_eq!(want, got);
}

//! Shared harness of the `pipeline_*` tests: the same script runs against a
//! stack of the reference daemons and a stack of ours (ovsdb-server +
//! ovs-vswitchd on the dummy datapath, driven by ovs-vsctl, ovs-ofctl and
//! ovs-appctl), and the two transcripts must be identical after removing
//! what legitimately differs between two runs (durations, UUIDs, the
//! sandbox's paths and pids, recirculation ids, flood order).
//!
//! Scripts are the commands a user types: `$ ovs-ofctl add-flow br0
//! "..."`, with shell quoting, `\` continuations and `- <<'EOF'` here
//! documents.  Lines after a command, up to the next command, are the
//! output the seed documents print for it (see [`Step::expected`]); `#`
//! lines are comments anywhere.

#![allow(dead_code)]

use testkit::{Program, Sandbox, Stack};

/// The reference daemons and tools (Debian's Open vSwitch 3.1).
pub fn reference_stack() -> Stack {
    Stack::upstream()
}

/// ferrovs throughout: daemons and tools.
pub fn our_stack() -> Stack {
    Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs"))
}

/// One sandbox per implementation, started like ovs-sandbox
/// (`--enable-dummy=override`: bridges and devices of every type are
/// dummies, so the seeds' commands run unchanged).
pub struct Twin {
    pub reference: Sandbox,
    pub ours: Sandbox,
}

impl Twin {
    /// Both stacks, or `None` (with a message) without the reference.
    pub fn start(tag: &str) -> Option<Twin> {
        if testkit::skip_without_upstream(tag) {
            return None;
        }
        let (reference, ours) = std::thread::scope(|s| {
            let r = s.spawn(|| start_one(&format!("{tag}-ref"), reference_stack()));
            let o = s.spawn(|| start_one(&format!("{tag}-ours"), our_stack()));
            (
                r.join().expect("reference stack"),
                o.join().expect("our stack"),
            )
        });
        Some(Twin { reference, ours })
    }

    /// Runs `f` on both sandboxes at once: (reference, ours).
    pub fn both<T: Send>(&self, f: impl Fn(&Sandbox) -> T + Sync) -> (T, T) {
        std::thread::scope(|s| {
            let r = s.spawn(|| f(&self.reference));
            let o = s.spawn(|| f(&self.ours));
            (
                r.join().expect("reference side"),
                o.join().expect("our side"),
            )
        })
    }
}

fn start_one(tag: &str, stack: Stack) -> Sandbox {
    let mut sb = Sandbox::empty(tag, stack);
    sb.create_db();
    sb.start_ovsdb_server();
    sb.start_vswitchd_with("--enable-dummy=override");
    sb
}

/// One command of a script with its here-document and documented output.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// Script line number (1-based) of the command.
    pub line: usize,
    /// The command as typed (continuations joined).
    pub text: String,
    pub argv: Vec<String>,
    /// Body of a `<<'EOF'` here document (ovs-ofctl `add-flows br0 -`).
    pub heredoc: Option<String>,
    /// What the seed prints for the command, if anything.  A first line
    /// `...` means "the output ends with the rest", a last line `...`
    /// means "the output starts with the rest", both mean "the output
    /// contains the rest".
    pub expected: Option<Vec<String>>,
}

/// Parses a script (see the module doc).
pub fn parse_script(text: &str) -> Vec<Step> {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps: Vec<Step> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(cmd) = l.strip_prefix("$ ") {
            let line = i + 1;
            let mut text = cmd.trim_end().to_string();
            while text.ends_with('\\') && i + 1 < lines.len() {
                text.pop();
                i += 1;
                text.push(' ');
                text.push_str(lines[i].trim());
            }
            i += 1;
            let mut heredoc = None;
            let mut cmd_text = text.clone();
            if let Some(p) = text.find("<<") {
                let tag = text[p + 2..]
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"')
                    .to_string();
                cmd_text = text[..p].trim_end().to_string();
                let mut body = String::new();
                while i < lines.len() && lines[i].trim() != tag {
                    body.push_str(lines[i]);
                    body.push('\n');
                    i += 1;
                }
                i += 1;
                heredoc = Some(body);
            }
            let mut expected: Vec<String> = Vec::new();
            while i < lines.len() && !lines[i].starts_with("$ ") {
                if !lines[i].starts_with('#') {
                    expected.push(lines[i].to_string());
                }
                i += 1;
            }
            while expected.last().is_some_and(|l| l.trim().is_empty()) {
                expected.pop();
            }
            steps.push(Step {
                line,
                argv: split_shell(&cmd_text),
                text,
                heredoc,
                expected: (!expected.is_empty()).then_some(expected),
            });
        } else {
            i += 1;
        }
    }
    steps
}

/// Splits a command line as a POSIX shell would (quotes, backslashes; no
/// expansions).
pub fn split_shell(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                have = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                have = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                cur.push(e);
                            }
                        }
                        _ => cur.push(d),
                    }
                }
            }
            '\\' => {
                have = true;
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            c if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                have = true;
                cur.push(c);
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// What one command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs one step in `sb` with the sandbox's own tools.  Besides the tools,
/// `wait-until CMD... ~ TEXT` reruns CMD (up to 10 s) until its output
/// contains TEXT: packets given to `netdev-dummy/receive` are handled
/// asynchronously, and learning shows only once the upcall is done.
pub fn run_step(sb: &Sandbox, step: &Step) -> Ran {
    if step.argv.first().map(String::as_str) == Some("wait-until") {
        let tilde = step
            .argv
            .iter()
            .position(|a| a == "~")
            .unwrap_or(step.argv.len());
        let inner = Step {
            argv: step.argv[1..tilde].to_vec(),
            ..step.clone()
        };
        let needle = step.argv[tilde + 1..].join(" ");
        let mut last = None;
        let found = sb.wait_until(std::time::Duration::from_secs(10), || {
            let r = run_step(sb, &inner);
            let hit = r.stdout.contains(&needle);
            last = Some(r);
            hit
        });
        return Ran {
            status: if found { 0 } else { 1 },
            stdout: if found {
                String::new()
            } else {
                format!(
                    "never saw {needle:?}; last output:\n{}",
                    last.map(|r| r.stdout).unwrap_or_default()
                )
            },
            stderr: String::new(),
        };
    }
    let Some(tool) = step.argv.first() else {
        return Ran {
            status: -1,
            stdout: String::new(),
            stderr: "empty command".into(),
        };
    };
    let prog: Program = match tool.as_str() {
        "ovs-vsctl" => sb.stack.vsctl.clone(),
        "ovs-ofctl" => sb.stack.ofctl.clone(),
        "ovs-appctl" => sb.stack.appctl.clone(),
        "ovs-dpctl" => sb.stack.dpctl.clone(),
        other => panic!("script line {}: unknown tool {other}", step.line),
    };
    let mut args: Vec<String> = step.argv[1..].to_vec();
    if let Some(body) = &step.heredoc {
        let path = sb.path(&format!("heredoc-{}.txt", step.line));
        std::fs::write(&path, body).expect("write here document");
        for a in args.iter_mut() {
            if a == "-" {
                *a = path.clone();
            }
        }
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sb.run(&prog, &a);
    Ran {
        status: o.status,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

/// What differs between any two runs: the sandbox directory and daemon
/// pids in messages, durations and ages, UUIDs, log timestamps,
/// recirculation ids (global counters), flood order.
pub fn normalize_run(sb: &Sandbox, r: &Ran) -> String {
    let dir = sb.dir.to_string_lossy().into_owned();
    let fix = |s: &str| {
        let s = s.replace(&dir, "<dir>");
        let s = strip_ctl_pid(&s);
        // `hard_age` shows only when it differs from the duration in whole
        // seconds: whether it does depends on timing.
        let s = testkit::normalize_durations(&s).replace(" hard_age=?,", "");
        let s = testkit::normalize_uuids(&s);
        let s = testkit::normalize_log_timestamps(&s);
        let s = blank_fdb_ages(&s);
        let s = blank_used(&s);
        let s = normalize_port_addrs(&s);
        // Sorted before the ids are renumbered, so that the numbering
        // does not depend on the datapath's order.
        normalize_recirc(&sort_datapath_flows(&sort_flood(&s)))
    };
    let stderr: String = testkit::without_timeval_warnings(&r.stderr)
        .lines()
        .filter(|l| !l.contains("The default log directory"))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("[{}]\n{}{}", r.status, fix(&r.stdout), fix(&stderr))
}

pub use testkit::text::normalize_port_addrs;

/// `fdb/show` ages are seconds of a clock each daemon reads at its own
/// moment: the Age column is blanked.
fn blank_fdb_ages(s: &str) -> String {
    s.split('\n')
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let is_entry = w.len() == 4
                && w[1].parse::<u16>().is_ok()
                && w[2].len() == 17
                && w[2].matches(':').count() == 5
                && w[3].parse::<u32>().is_ok();
            if is_entry {
                l.trim_end_matches(|c: char| c.is_ascii_digit()).to_string() + "?"
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `used:0.415s` in datapath flow dumps: when the last packet was, by a
/// clock read at a different moment in each run.
fn blank_used(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find("used:") {
        out.push_str(&rest[..p + 5]);
        rest = &rest[p + 5..];
        if rest.starts_with("never") {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 's'))
            .unwrap_or(rest.len());
        out.push('?');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Datapath flow dumps list flows in hash order: sort them.
fn sort_datapath_flows(s: &str) -> String {
    let is_flow = |l: &str| l.contains(", actions:") && l.contains("packets:");
    let mut lines: Vec<&str> = s.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        if is_flow(lines[i]) {
            let start = i;
            while i < lines.len() && is_flow(lines[i]) {
                i += 1;
            }
            lines[start..i].sort_unstable();
        } else {
            i += 1;
        }
    }
    lines.join("\n")
}

/// `<dir>/ovs-vswitchd.1234.ctl` → `<dir>/ovs-vswitchd.<pid>.ctl`.
fn strip_ctl_pid(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find(".ctl") {
        let head = &rest[..p];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && head[..head.len() - digits].ends_with('.') {
            out.push_str(&head[..head.len() - digits]);
            out.push_str("<pid>");
        } else {
            out.push_str(head);
        }
        out.push_str(".ctl");
        rest = &rest[p + 4..];
    }
    out.push_str(rest);
    out
}

/// Recirculation ids renumbered (global counters in both switches).
#[allow(unused_imports)]
pub use testkit::normalize_recirc;

/// NORMAL and flooding output ports in hash-map order upstream: runs of
/// plain port numbers in `Datapath actions:` lines and `actions:` of
/// datapath flow dumps are sorted.
pub fn sort_flood(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for l in text.split('\n') {
        if let Some(acts) = l.strip_prefix("Datapath actions: ") {
            out.push(format!("Datapath actions: {}", sort_runs(acts)));
        } else if let Some(p) = l.find(" actions:") {
            out.push(format!("{} actions:{}", &l[..p], sort_runs(&l[p + 9..])));
        } else {
            out.push(l.to_string());
        }
    }
    out.join("\n")
}

fn sort_runs(acts: &str) -> String {
    vlan_flood_set(acts).unwrap_or_else(|| testkit::sort_port_runs(acts))
}

/// A flood across ports of different VLAN treatment (`push_vlan(...),1,
/// pop_vlan,4` in one order, `4,push_vlan(...),1` in the other) as the set
/// of (port, VLAN header it gets) pairs, when the actions are only outputs
/// and VLAN pushes and pops: the order of the ports is the order upstream
/// walks its bundles, which no two runs share.
fn vlan_flood_set(acts: &str) -> Option<String> {
    let items = testkit::split_top(acts);
    if !items
        .iter()
        .any(|a| a.starts_with("push_vlan(") || *a == "pop_vlan")
    {
        return None;
    }
    let mut tags: Vec<&str> = Vec::new();
    let mut outs: Vec<String> = Vec::new();
    for a in items {
        if let Some(v) = a.strip_prefix("push_vlan(") {
            tags.push(v.trim_end_matches(')'));
        } else if a == "pop_vlan" {
            tags.pop()?;
        } else if let Ok(n) = a.parse::<u32>() {
            outs.push(format!("{n}[{}]", tags.join("|")));
        } else {
            return None;
        }
    }
    if outs.len() < 2 {
        return None;
    }
    outs.sort_unstable();
    Some(format!("{{{}}}", outs.join(",")))
}

/// What legitimately differs between the seeds' transcripts (several OVS
/// versions, some hand-edited) and OVS 3.1, applied to both sides before
/// comparing: 3.1 prints the `eth` packet type in megaflows and leaves
/// an untagged packet's `vlan_tci=0x0000` out of them, the second VLAN
/// header (`vlan_tci1=0x0000`) of a tagged flow and `nw_frag=no` in
/// flows; dump-flows statistics (`cookie=0x0`, `duration`, counters,
/// ages) and request ids (`xid`) vary, leading spaces vary;
/// recirculation ids are global
/// counters; `-generate` traces of `controller` actions send nothing
/// without a controller (`dont_send`).
pub fn seed_normalize(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let mut l = sort_flood(l.trim());
            l = l.replace("recirc_id=0,eth,", "recirc_id=0,");
            // The Faucet tutorial's dump-flows helper strips its cookie.
            l = l.replace("cookie=0x5adc15c0, ", "");
            l = l.replace(",vlan_tci1=0x0000", "");
            if l.starts_with("Flow: ") || l.starts_with("Final flow: ") {
                l = l.replace(",nw_frag=no", "");
            }
            if l.starts_with("Megaflow: ") {
                l = l.replace(",vlan_tci=0x0000,", ",");
                l = l.replace(",vlan_tci=0x0000/0x1fff,", ",");
            }
            for stat in [
                "cookie=0x0, ",
                "duration=",
                "n_packets=",
                "n_bytes=",
                "idle_age=",
                "hard_age=",
            ] {
                while let Some(p) = l.find(stat) {
                    let end = l[p..].find(", ").map(|e| p + e + 2).unwrap_or(l.len());
                    l.replace_range(p..end, "");
                }
            }
            if let Some(p) = l.find("(xid=0x") {
                if let Some(e) = l[p..].find(')') {
                    l.replace_range(p..p + e + 1, "(xid=?)");
                }
            }
            for dont in ["dont_send=0", "dont_send=1"] {
                l = l.replace(dont, "dont_send=?");
            }
            normalize_recirc(&l)
        })
        .collect()
}

/// Checks `actual` against a seed's documented output; `Err` says how it
/// differs.
pub fn check_expected(expected: &[String], actual: &str) -> Result<(), String> {
    let act: Vec<String> = actual.lines().map(str::to_string).collect();
    let act = seed_normalize(&act);
    let dots = |l: Option<&String>| l.is_some_and(|l| l.trim() == "...");
    let (exp, mode) = match (expected.first(), expected.last()) {
        _ if expected.len() > 2 && dots(expected.first()) && dots(expected.last()) => {
            (&expected[1..expected.len() - 1], "part")
        }
        (Some(f), _) if f.trim() == "..." => (&expected[1..], "suffix"),
        (_, Some(l)) if l.trim() == "..." => (&expected[..expected.len() - 1], "prefix"),
        _ => (expected, "all"),
    };
    let exp = seed_normalize(exp);
    let strip =
        |v: Vec<String>| -> Vec<String> { v.into_iter().filter(|l| !l.is_empty()).collect() };
    let (exp, act) = (strip(exp), strip(act));
    let ok = match mode {
        "suffix" => act.ends_with(&exp),
        "prefix" => act.starts_with(&exp),
        "part" => exp.is_empty() || act.windows(exp.len()).any(|w| w == exp.as_slice()),
        _ => act == exp,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "documented ({mode}):\n{}\nactual:\n{}",
            exp.join("\n"),
            act.join("\n")
        ))
    }
}

/// Runs a script in both stacks: every command's normalized transcript
/// must be identical, and both must show what the seed documents.
/// Returns the failures (empty when all is well) and the number of
/// commands run.
pub fn run_script(twin: &Twin, name: &str, script: &str) -> (Vec<String>, usize) {
    let steps = parse_script(script);
    let mut failures = Vec::new();
    for step in &steps {
        let (r, o) = twin.both(|sb| normalize_run(sb, &run_step(sb, step)));
        if r != o {
            failures.push(format!(
                "{name}:{}: `{}`: ours differs from the reference:\n--- reference\n{r}\n--- ours\n{o}",
                step.line, step.text
            ));
            continue;
        }
        if let Some(exp) = &step.expected {
            let out = r.split_once('\n').map(|x| x.1).unwrap_or("");
            if let Err(e) = check_expected(exp, out) {
                failures.push(format!(
                    "{name}:{}: `{}`: both differ from the seed's transcript:\n{e}",
                    step.line, step.text
                ));
            }
        }
    }
    (failures, steps.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(
            split_shell(r#"ovs-ofctl add-flow br0 "table=0, actions=drop" 'a b'\ c"#),
            vec![
                "ovs-ofctl",
                "add-flow",
                "br0",
                "table=0, actions=drop",
                "a b c"
            ]
        );
    }
}

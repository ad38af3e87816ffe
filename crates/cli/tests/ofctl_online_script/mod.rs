//! Differential scripts for online `ovs-ofctl`: a script is run twice, each
//! time in a fresh sandbox, once with one `ovs-ofctl` (say upstream's) and
//! once with another (say ours), and the outputs of its `ofctl` lines are
//! compared after normalizing what legitimately varies (durations, ages,
//! round-trip times, log timestamps).
//!
//! Script lines (`#` starts a comment line; words are split like a shell
//! does, with '...' and "..." quoting):
//!
//! - `vsctl ARGS` — configuration through the sandbox's ovs-vsctl (must
//!   succeed; not compared).
//! - `appctl ARGS` — ovs-appctl to the sandbox's ovs-vswitchd (not compared).
//! - `ofctl ARGS` — the command under test: stdout, stderr and exit status
//!   are compared.
//! - `ofctl? ARGS` — only the exit status is compared (outputs with
//!   timings).
//! - `ofctl|sort ARGS` — stdout compared with its lines sorted (for
//!   switches that list groups in hash order).
//! - `ofctl~ ARGS` — a known difference (listed in docs/compat.md): run,
//!   not compared, counted.
//! - `ofctl< FILE ARGS` — like `ofctl`, with FILE (in the sandbox) on
//!   stdin (`add-flows br0 -`).
//! - `ofctl& FILE ARGS` — a command that detaches (`monitor ... --detach`)
//!   with its stderr in FILE (in the sandbox); the status is compared.
//! - `appctl-ofctl ARGS` — ovs-appctl to that detached ovs-ofctl (`-t
//!   ovs-ofctl`); compared.
//! - `cat FILE` — the normalized contents of FILE are compared.
//! - `file NAME TEXT` — writes TEXT (with `\n` escapes) to NAME in the
//!   sandbox directory; `@NAME` in later arguments is that file's path.
//!
//! The daemons come from [`testkit::Stack`], so the same scripts also drive
//! ferrovs's own daemons with the upstream tool.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use testkit::{Program, Sandbox, Stack};

/// What one `ofctl` line produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub line: usize,
    pub command: String,
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub status_only: bool,
    pub known_gap: bool,
}

/// Splits a script line into words (shell-like quoting, no expansion).
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Replaces what differs between two correct runs.
pub fn normalize(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.to_string_lossy().into_owned(), "<dir>");
    let text = testkit::normalize_durations(&text);
    // `duration=1.234s` / `duration:1.234s` anywhere (group and meter
    // statistics join them with commas).
    let text = mask_durations(&text);
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        // Log lines: "2024-01-01T00:00:00Z|00001|module|LEVEL|text".
        let line = match line.split_once('|') {
            Some((ts, rest)) if ts.len() == 20 && ts.ends_with('Z') => {
                let rest = rest.split_once('|').map_or(rest, |(_, r)| r);
                format!("<time>|<seq>|{rest}")
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
    }
    out
}

fn mask_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("duration") {
        let (head, tail) = rest.split_at(i + "duration".len());
        out.push_str(head);
        let mut chars = tail.char_indices();
        match chars.next() {
            Some((_, sep @ ('=' | ':'))) => {
                let num = tail[1..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .map_or(tail.len() - 1, |n| n);
                if num > 0 && tail[1 + num..].starts_with('s') {
                    out.push(sep);
                    out.push('?');
                    rest = &tail[1 + num + 1..];
                } else {
                    rest = tail;
                }
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Runs `script` in a new sandbox whose daemons come from `daemons`, with
/// `ofctl` as the tool under test. Returns the compared steps.
pub fn run_script(tag: &str, script: &str, daemons: Stack, ofctl: &Program) -> Vec<Step> {
    let sb = Sandbox::start_stack(tag, daemons, true);
    let mut steps = Vec::new();
    for (i, raw) in script.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kw, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if kw == "file" {
            let (name, text) = rest
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((rest, ""));
            let text = text.replace("\\n", "\n");
            std::fs::write(sb.dir.join(name), text).expect("write script file");
            continue;
        }
        let words: Vec<String> = split_words(rest)
            .into_iter()
            .map(|w| match w.strip_prefix('@') {
                Some(f) => sb.path(f),
                None => w,
            })
            .collect();
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        match kw {
            "vsctl" => {
                sb.vsctl(&args)
                    .unwrap_or_else(|e| panic!("{tag}:{}: {e}", i + 1));
            }
            "appctl" => {
                sb.appctl(&args)
                    .unwrap_or_else(|e| panic!("{tag}:{}: {e}", i + 1));
            }
            "ofctl<" => {
                let (file, rest_args) = args.split_first().expect("ofctl< FILE ARGS");
                let input = std::fs::File::open(sb.dir.join(file)).expect("open input file");
                let out = sb
                    .command(ofctl, rest_args)
                    .stdin(input)
                    .output()
                    .expect("run ofctl");
                steps.push(Step {
                    line: i + 1,
                    command: rest.to_string(),
                    status: out.status.code().unwrap_or(-1),
                    stdout: normalize(&String::from_utf8_lossy(&out.stdout), &sb.dir),
                    stderr: normalize(&String::from_utf8_lossy(&out.stderr), &sb.dir),
                    status_only: false,
                    known_gap: false,
                });
            }
            "ofctl&" => {
                let (file, rest_args) = args.split_first().expect("ofctl& FILE ARGS");
                let stderr = std::fs::File::create(sb.dir.join(file)).expect("create output file");
                let status = sb
                    .command(ofctl, rest_args)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(stderr)
                    .status()
                    .expect("run ofctl");
                steps.push(Step {
                    line: i + 1,
                    command: rest.to_string(),
                    status: status.code().unwrap_or(-1),
                    stdout: String::new(),
                    stderr: String::new(),
                    status_only: false,
                    known_gap: false,
                });
            }
            "appctl-ofctl" | "cat" => {
                let out = if kw == "cat" {
                    let text = std::fs::read_to_string(sb.dir.join(args[0])).unwrap_or_default();
                    testkit::Outcome {
                        status: 0,
                        stdout: text,
                        stderr: String::new(),
                    }
                } else {
                    let mut all = vec!["-t", "ovs-ofctl"];
                    all.extend_from_slice(&args);
                    let appctl = sb.stack.appctl.clone();
                    let out = sb.run(&appctl, &all);
                    if args.first() == Some(&"exit") {
                        // The daemon leaves after replying: wait until its
                        // pidfile is gone, so that the next detached
                        // ovs-ofctl can take it.
                        let pidfile = sb.dir.join("ovs-ofctl.pid");
                        sb.wait_until(std::time::Duration::from_secs(10), || !pidfile.exists());
                    }
                    out
                };
                steps.push(Step {
                    line: i + 1,
                    command: rest.to_string(),
                    status: out.status,
                    stdout: normalize(&out.stdout, &sb.dir),
                    stderr: normalize(&out.stderr, &sb.dir),
                    status_only: false,
                    known_gap: false,
                });
            }
            "ofctl" | "ofctl?" | "ofctl~" | "ofctl|sort" => {
                let out = sb.run(ofctl, &args);
                let mut stdout = normalize(&out.stdout, &sb.dir);
                if kw == "ofctl|sort" {
                    // Sorted once normalized: sorting raw lines would
                    // order them by their durations, i.e. by timing.
                    let mut lines: Vec<&str> = stdout.lines().collect();
                    lines.sort_unstable();
                    stdout = lines.iter().map(|l| format!("{l}\n")).collect();
                }
                steps.push(Step {
                    line: i + 1,
                    command: rest.to_string(),
                    status: out.status,
                    stdout,
                    stderr: normalize(&out.stderr, &sb.dir),
                    status_only: kw == "ofctl?",
                    known_gap: kw == "ofctl~",
                });
            }
            other => panic!("{tag}:{}: unknown script keyword {other}", i + 1),
        }
    }
    steps
}

/// Differences between two runs of the same script, as readable text.
pub fn compare(tag: &str, expected: &[Step], actual: &[Step]) -> Vec<String> {
    let mut diffs = Vec::new();
    for (e, a) in expected.iter().zip(actual) {
        if e.known_gap {
            continue;
        }
        let same = e.status == a.status
            && (e.status_only || (e.stdout == a.stdout && e.stderr == a.stderr));
        if !same {
            diffs.push(format!(
                "{tag}:{}: ofctl {}\n--- expected (status {}):\n{}{}--- actual (status {}):\n{}{}",
                e.line, e.command, e.status, e.stdout, e.stderr, a.status, a.stdout, a.stderr
            ));
        }
    }
    if expected.len() != actual.len() {
        diffs.push(format!("{tag}: step counts differ"));
    }
    diffs
}

/// The scripts of `data/ofctl_online/`, sorted by name.
pub fn scripts() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ofctl_online");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("tests/data/ofctl_online")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&p).expect("read script"))
        })
        .collect();
    v.sort();
    v
}

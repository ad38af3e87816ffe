//! Levels per module and destination, patterns, the log file, and the parsing
//! of `-v` settings.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;

/// Severity, from most to least severe. `Off` disables a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Off,
    Emer,
    Err,
    Warn,
    Info,
    Dbg,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Off,
        Level::Emer,
        Level::Err,
        Level::Warn,
        Level::Info,
        Level::Dbg,
    ];

    /// The lower-case name used in settings (`off`, `emer`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Emer => "emer",
            Level::Err => "err",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Dbg => "dbg",
        }
    }

    /// The upper-case name printed by `%p` and `vlog/list`.
    pub fn upper(self) -> &'static str {
        match self {
            Level::Off => "OFF",
            Level::Emer => "EMER",
            Level::Err => "ERR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Dbg => "DBG",
        }
    }

    fn from_name(s: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
    }

    /// The syslog priority of this level.
    pub fn syslog_priority(self) -> i32 {
        match self {
            Level::Off | Level::Emer => libc::LOG_ALERT,
            Level::Err => libc::LOG_ERR,
            Level::Warn => libc::LOG_WARNING,
            Level::Info => libc::LOG_NOTICE,
            Level::Dbg => libc::LOG_DEBUG,
        }
    }
}

/// Where a message can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    Console,
    Syslog,
    File,
}

impl Destination {
    pub const ALL: [Destination; 3] =
        [Destination::Console, Destination::Syslog, Destination::File];

    pub fn name(self) -> &'static str {
        match self {
            Destination::Console => "console",
            Destination::Syslog => "syslog",
            Destination::File => "file",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn from_name(s: &str) -> Option<Destination> {
        Destination::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s))
    }
}

const DEFAULT_PATTERNS: [&str; 3] = [
    "%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m",
    "ovs|%05N|%c%T|%p|%m",
    "%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m",
];

pub(crate) struct State {
    pub program: String,
    /// Levels of modules, in name order as `vlog/list` prints them.
    modules: BTreeMap<String, [Level; 3]>,
    /// Levels that modules declared later start with.
    defaults: [Level; 3],
    patterns: [String; 3],
    file_path: Option<String>,
    file: Option<File>,
}

impl Default for State {
    fn default() -> Self {
        State {
            program: std::env::args()
                .next()
                .and_then(|a| a.rsplit('/').next().map(str::to_string))
                .unwrap_or_default(),
            modules: BTreeMap::new(),
            defaults: [Level::Info; 3],
            patterns: DEFAULT_PATTERNS.map(str::to_string),
            file_path: None,
            file: None,
        }
    }
}

impl State {
    pub fn module(&mut self, name: &str) -> &mut [Level; 3] {
        let defaults = self.defaults;
        self.modules.entry(name.to_string()).or_insert(defaults)
    }

    pub fn level(&self, module: &str, dest: Destination) -> Level {
        let levels = self.modules.get(module).unwrap_or(&self.defaults);
        if dest == Destination::File && self.file.is_none() {
            return Level::Off;
        }
        levels[dest.index()]
    }

    pub fn enabled(&self, module: &str, level: Level) -> bool {
        Destination::ALL
            .into_iter()
            .any(|d| self.level(module, d) >= level)
    }

    pub fn pattern(&self, dest: Destination) -> &str {
        &self.patterns[dest.index()]
    }

    pub fn set(&mut self, module: Option<&str>, dest: Option<Destination>, level: Level) {
        let dests: Vec<Destination> = match dest {
            Some(d) => vec![d],
            None => Destination::ALL.to_vec(),
        };
        let apply = |levels: &mut [Level; 3]| {
            for d in &dests {
                levels[d.index()] = level;
            }
        };
        match module {
            Some(m) => apply(self.module(m)),
            None => {
                apply(&mut self.defaults);
                for levels in self.modules.values_mut() {
                    apply(levels);
                }
            }
        }
    }

    /// Applies one setting in the `-v` syntax.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        let fail = |why: String| Err(format!("processing \"{spec}\": {why}"));
        let words: Vec<&str> = spec
            .split([' ', ',', ':', '\t'])
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            self.set(None, None, Level::Dbg);
            return Ok(());
        }
        if words[0].eq_ignore_ascii_case("PATTERN") {
            // The pattern is everything after "PATTERN:DEST:" verbatim.
            let mut parts = spec.splitn(3, ':');
            parts.next();
            let dest = parts.next().unwrap_or("");
            let pattern = parts.next();
            let dests: Vec<Destination> = if dest.eq_ignore_ascii_case("any") {
                Destination::ALL.to_vec()
            } else {
                match Destination::from_name(dest) {
                    Some(d) => vec![d],
                    None => return fail(format!("unknown destination \"{dest}\"")),
                }
            };
            let Some(pattern) = pattern else {
                return fail("missing pattern".to_string());
            };
            for d in dests {
                self.patterns[d.index()] = pattern.to_string();
            }
            return Ok(());
        }
        if words[0].eq_ignore_ascii_case("FACILITY") {
            // Syslog facilities are accepted; messages use the default one.
            return if words.len() == 2 {
                Ok(())
            } else {
                fail("missing facility".to_string())
            };
        }
        let mut module = None;
        let mut dest = None;
        let mut level = None;
        for w in words {
            if w.eq_ignore_ascii_case("any") {
                continue;
            } else if let Some(d) = Destination::from_name(w) {
                if dest.is_some() {
                    return fail("cannot specify multiple destinations".into());
                }
                dest = Some(d);
            } else if let Some(l) = Level::from_name(w) {
                if level.is_some() {
                    return fail("cannot specify multiple levels".into());
                }
                level = Some(l);
            } else if self.modules.contains_key(w) {
                if module.is_some() {
                    return fail("cannot specify multiple modules".into());
                }
                module = Some(w.to_string());
            } else {
                return fail(format!("no destination, level, or module \"{w}\""));
            }
        }
        self.set(module.as_deref(), dest, level.unwrap_or(Level::Dbg));
        Ok(())
    }

    pub fn open_file(&mut self, path: &str) -> Result<(), String> {
        self.file_path = Some(path.to_string());
        self.reopen_file()
    }

    pub fn reopen_file(&mut self) -> Result<(), String> {
        let Some(path) = &self.file_path else {
            return Ok(());
        };
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => {
                self.file = Some(f);
                Ok(())
            }
            Err(e) => Err(format!("failed to open {path} for logging: {e}")),
        }
    }

    pub fn write_file(&mut self, line: &str) {
        if let Some(f) = &mut self.file {
            let _ = writeln!(f, "{line}");
        }
    }

    pub fn list(&self) -> String {
        let mut s = String::from(
            "                 console    syslog    file\n                 -------    ------    ------\n",
        );
        for (name, l) in &self.modules {
            s.push_str(&format!(
                "{:<16} {:>5}      {:>5}      {:>5}\n",
                name,
                l[0].upper(),
                l[1].upper(),
                l[2].upper()
            ));
        }
        s
    }

    pub fn list_patterns(&self) -> String {
        format!(
            "         prefix                            format\n         ------                            ------\nSYSLOG   <%B> %D{{%h %e %T}} %E %A:          {}\nCONSOLE  none                              {}\nFILE     none                              {}\n",
            self.patterns[1], self.patterns[0], self.patterns[2]
        )
    }
}

/// Sends one rendered line to the local syslog daemon.
pub(crate) fn syslog(level: Level, line: &str) {
    if !std::path::Path::new("/dev/log").exists() {
        return;
    }
    let Ok(msg) = std::ffi::CString::new(line.replace('\0', " ")) else {
        return;
    };
    // SAFETY: the format string is a literal "%s" and `msg` is a valid C string.
    unsafe { libc::syslog(level.syslog_priority(), c"%s".as_ptr(), msg.as_ptr()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings_like_upstream() {
        let mut s = State::default();
        s.module("ofp_actions");
        assert_eq!(
            s.apply("foo:dbg"),
            Err("processing \"foo:dbg\": no destination, level, or module \"foo\"".into())
        );
        s.apply("console:warn").unwrap();
        assert_eq!(s.level("ofp_actions", Destination::Console), Level::Warn);
        assert_eq!(s.level("ofp_actions", Destination::Syslog), Level::Info);
        s.apply("ofp_actions:syslog:off").unwrap();
        assert_eq!(s.level("ofp_actions", Destination::Syslog), Level::Off);
        s.apply("PATTERN:console:%c|%p|%m").unwrap();
        assert_eq!(s.pattern(Destination::Console), "%c|%p|%m");
        s.apply("").unwrap();
        assert_eq!(s.level("ofp_actions", Destination::Console), Level::Dbg);
        // The file destination is off until a file is opened.
        assert_eq!(s.level("ofp_actions", Destination::File), Level::Off);
    }
}

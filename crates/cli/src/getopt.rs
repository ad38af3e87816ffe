//! GNU `getopt_long` as the OVS tools use it: long options with unambiguous
//! abbreviations (`--prot=X`), clustered short options (`-mmm`, `-OX`), `--`,
//! and either argument permutation (options anywhere) or stopping at the first
//! word (getopt's leading `+`). Errors carry getopt's texts.

/// Whether an option takes an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    Required,
    Optional,
}

/// One option: long name, short letter, argument.
pub type LongOpt = (&'static str, Option<char>, Arg);

/// What to do with a word that is not an option.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// Keep parsing options after it (GNU's default permutation).
    Permute,
    /// Stop: it and everything after it are words (getopt's `+`).
    StopAtFirst,
}

/// Parses `args` against `table`, calling `on(long_name, value)` for each
/// option in order. `on` returns `Ok(false)` to stop early (after `--help`),
/// which makes `parse` return `Ok(None)`. getopt's own errors go through
/// `usage`. Returns the non-option words.
pub fn parse<E>(
    args: &[String],
    table: &[LongOpt],
    words_mode: Words,
    usage: impl Fn(String) -> E,
    mut on: impl FnMut(&'static str, Option<String>) -> Result<bool, E>,
) -> Result<Option<Vec<String>>, E> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            words.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let exact = table.iter().find(|o| o.0 == name);
            let matches: Vec<&LongOpt> = table.iter().filter(|o| o.0.starts_with(name)).collect();
            let &(long, _, arg) = match (exact, matches.len()) {
                (Some(o), _) => o,
                (None, 1) => matches[0],
                (None, 0) => return Err(usage(format!("unrecognized option '{a}'"))),
                (None, _) => {
                    let list: Vec<String> =
                        matches.iter().map(|o| format!("'--{}'", o.0)).collect();
                    return Err(usage(format!(
                        "option '--{name}' is ambiguous; possibilities: {}",
                        list.join(" ")
                    )));
                }
            };
            let val = match (arg, inline) {
                (Arg::None, Some(_)) => {
                    return Err(usage(format!(
                        "option '--{long}' doesn't allow an argument"
                    )))
                }
                (Arg::None, None) => None,
                (Arg::Optional, v) => v,
                (Arg::Required, Some(v)) => Some(v),
                (Arg::Required, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => return Err(usage(format!("option '--{long}' requires an argument"))),
                },
            };
            if !on(long, val)? {
                return Ok(None);
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            for (j, &c) in chars.iter().enumerate() {
                let Some(&(long, _, arg)) = table.iter().find(|o| o.1 == Some(c)) else {
                    return Err(usage(format!("invalid option -- '{c}'")));
                };
                let rest: String = chars[j + 1..].iter().collect();
                let (val, last) = match arg {
                    Arg::None => (None, false),
                    Arg::Optional => ((!rest.is_empty()).then_some(rest), true),
                    Arg::Required if !rest.is_empty() => (Some(rest), true),
                    Arg::Required => match args.get(i) {
                        Some(v) => {
                            i += 1;
                            (Some(v.clone()), true)
                        }
                        None => return Err(usage(format!("option requires an argument -- '{c}'"))),
                    },
                };
                if !on(long, val)? {
                    return Ok(None);
                }
                if last {
                    break;
                }
            }
        } else if words_mode == Words::StopAtFirst {
            words.extend(args[i - 1..].iter().cloned());
            break;
        } else {
            words.push(a.clone());
        }
    }
    Ok(Some(words))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[LongOpt] = &[
        ("strict", None, Arg::None),
        ("sort", None, Arg::Optional),
        ("protocols", Some('O'), Arg::Required),
        ("more", Some('m'), Arg::None),
        ("verbose", Some('v'), Arg::Optional),
    ];

    fn run(args: &[&str], mode: Words) -> Result<(Vec<String>, Vec<String>), String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut seen = Vec::new();
        let words = parse(
            &args,
            T,
            mode,
            |e| e,
            |n, v| {
                seen.push(format!("{n}={}", v.unwrap_or_default()));
                Ok(true)
            },
        )?
        .unwrap_or_default();
        Ok((seen, words))
    }

    #[test]
    fn permutes_clusters_and_abbreviates() {
        let (seen, words) = run(
            &["a", "-mmOX", "b", "--prot", "Y", "-vfoo", "--so"],
            Words::Permute,
        )
        .unwrap();
        assert_eq!(
            seen,
            [
                "more=",
                "more=",
                "protocols=X",
                "protocols=Y",
                "verbose=foo",
                "sort="
            ]
        );
        assert_eq!(words, ["a", "b"]);
        let (seen, words) = run(&["-m", "cmd", "-m"], Words::StopAtFirst).unwrap();
        assert_eq!(seen, ["more="]);
        assert_eq!(words, ["cmd", "-m"]);
    }

    #[test]
    fn errors_are_getopts() {
        assert_eq!(
            run(&["--x"], Words::Permute).unwrap_err(),
            "unrecognized option '--x'"
        );
        assert_eq!(
            run(&["-Z"], Words::Permute).unwrap_err(),
            "invalid option -- 'Z'"
        );
        assert_eq!(
            run(&["-O"], Words::Permute).unwrap_err(),
            "option requires an argument -- 'O'"
        );
        assert_eq!(
            run(&["--s"], Words::Permute).unwrap_err(),
            "option '--s' is ambiguous; possibilities: '--strict' '--sort'"
        );
        assert_eq!(
            run(&["--strict=1"], Words::Permute).unwrap_err(),
            "option '--strict' doesn't allow an argument"
        );
        assert_eq!(
            run(&["--protocols"], Words::Permute).unwrap_err(),
            "option '--protocols' requires an argument"
        );
    }
}

/// How getopt names the program in its messages: argv[0] as typed when the
/// binary runs under the tool's installed name, else the tool's name.
pub fn argv0(program: &str) -> String {
    std::env::args()
        .next()
        .filter(|a| std::path::Path::new(a).file_name().and_then(|n| n.to_str()) == Some(program))
        .unwrap_or_else(|| program.to_string())
}

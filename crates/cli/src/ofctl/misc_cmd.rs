//! Offline ovs-ofctl commands that exercise the text tokenizer.

use super::options::Options;
use super::CmdResult;

/// `parse-key-value ARG...`: prints each argument's pairs, comma-separated.
pub fn parse_key_value(_: &Options, args: &[String]) -> CmdResult {
    for arg in args {
        let line: Vec<String> = flow::key_value::pairs(arg)
            .into_iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.to_string()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        println!("{}", line.join(", "));
    }
    Ok(())
}

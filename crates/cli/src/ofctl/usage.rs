//! The text of `ovs-ofctl --help`.

/// Upstream's usage text, as `ovs-ofctl --help` prints it.
pub fn text() -> &'static str {
    include_str!("usage.txt")
}

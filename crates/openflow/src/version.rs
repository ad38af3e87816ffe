//! OpenFlow protocol versions and their names in printed output.

pub use flow::version::OfpVersion;

/// The short name of a version byte in message headers: `OF1.3`, or
/// `OF 0x3f` for versions this crate does not know.
pub fn version_to_string(v: u8) -> String {
    match v {
        1..=6 => format!("OF1.{}", v - 1),
        _ => format!("OF 0x{v:02x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(version_to_string(4), "OF1.3");
        assert_eq!(version_to_string(0x3f), "OF 0x3f");
        assert_eq!(OfpVersion::from_wire(0), None);
        assert_eq!(OfpVersion::from_wire(6), Some(OfpVersion::Of15));
        assert_eq!(OfpVersion::from_wire(7), None);
    }
}

//! OpenFlow protocol versions and their names in printed output.

/// An OpenFlow version this crate can decode and encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OfpVersion {
    Of10 = 1,
    Of11 = 2,
    Of12 = 3,
    Of13 = 4,
    Of14 = 5,
    Of15 = 6,
}

impl OfpVersion {
    /// Every supported version, oldest first.
    pub const ALL: [OfpVersion; 6] = [
        OfpVersion::Of10,
        OfpVersion::Of11,
        OfpVersion::Of12,
        OfpVersion::Of13,
        OfpVersion::Of14,
        OfpVersion::Of15,
    ];

    /// The version byte of `ofp_header`.
    pub fn wire(self) -> u8 {
        self as u8
    }

    pub fn from_wire(v: u8) -> Option<OfpVersion> {
        OfpVersion::ALL.get(usize::from(v).wrapping_sub(1)).copied()
    }

    /// `OpenFlow 1.3`, as the error domains are named.
    pub fn domain_name(self) -> &'static str {
        match self {
            OfpVersion::Of10 => "OpenFlow 1.0",
            OfpVersion::Of11 => "OpenFlow 1.1",
            OfpVersion::Of12 => "OpenFlow 1.2",
            OfpVersion::Of13 => "OpenFlow 1.3",
            OfpVersion::Of14 => "OpenFlow 1.4",
            OfpVersion::Of15 => "OpenFlow 1.5",
        }
    }
}

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

//! Errors of the netdev room. Each carries the device name and, for kernel
//! failures, the errno, so that callers can print upstream's messages
//! ("could not open network device X (No such device)").

use std::io;

use crate::sys::errno_text;

#[derive(Debug, thiserror::Error)]
pub enum NetdevError {
    /// No provider for this type.
    #[error("could not create netdev {name} of unknown type {type_name}")]
    UnknownType { name: String, type_name: String },
    /// A system call failed.
    #[error("{name}: {op} failed ({})", errno_text(.source))]
    Sys {
        name: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// The queue does not exist or is already owned.
    #[error("{name}: no receive queue {qid} available")]
    NoQueue { name: String, qid: usize },
}

impl NetdevError {
    pub(crate) fn sys(name: &str, op: &'static str, source: io::Error) -> NetdevError {
        NetdevError::Sys {
            name: name.to_string(),
            op,
            source,
        }
    }

    /// The errno behind the error, as upstream's netdev functions return it
    /// (`EAFNOSUPPORT` for an unknown type, `EBUSY` for a taken queue).
    pub fn errno(&self) -> i32 {
        match self {
            NetdevError::UnknownType { .. } => libc::EAFNOSUPPORT,
            NetdevError::Sys { source, .. } => source.raw_os_error().unwrap_or(libc::EIO),
            NetdevError::NoQueue { .. } => libc::EBUSY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = NetdevError::sys(
            "veth0",
            "SIOCGIFINDEX",
            io::Error::from_raw_os_error(libc::ENODEV),
        );
        assert_eq!(e.to_string(), "veth0: SIOCGIFINDEX failed (No such device)");
        assert_eq!(e.errno(), libc::ENODEV);
        let u = NetdevError::UnknownType {
            name: "p0".into(),
            type_name: "foo".into(),
        };
        assert_eq!(u.errno(), libc::EAFNOSUPPORT);
    }
}

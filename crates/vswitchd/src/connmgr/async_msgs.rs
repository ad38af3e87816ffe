//! Who opened a connection, which decides how it is treated (service
//! connections get asynchronous messages only after setting a
//! miss-send length; the filtering and encoding itself is
//! `ofproto::handler::asyncmsg`'s).

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnKind {
    /// A controller the switch connected to.
    Primary,
    /// A client of a passive listener (`ovs-ofctl` on `<br>.mgmt`,
    /// `ptcp:`/`punix:` Controller targets).
    Service,
}

/// `OFP_DEFAULT_MISS_SEND_LEN`: what a primary connection starts with.
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

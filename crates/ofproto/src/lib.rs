//! The ofproto room of ferrovs: one OpenFlow switch (a bridge) as
//! controllers see it — the counterpart of Open vSwitch's `ofproto/`.
//!
//! An [`Ofproto`] owns 255 flow tables (each a versioned
//! [`classifier::Classifier`] of [`Rule`]s, so that a bundle commit becomes
//! visible atomically), the group table ([`Group`]), the meter table
//! ([`Meter`]), the OpenFlow ports ([`OfPort`], added and removed by the
//! vswitchd), the tunnel-metadata TLV map and the switch configuration.
//!
//! Who calls what:
//! - The vswitchd's connection manager hands every OpenFlow request
//!   (except hello/echo) to [`Ofproto::handle_openflow`] with the
//!   connection's [`ConnState`]; the replies come back as encoded messages
//!   in the connection's version, errors as `OFPT_ERROR` exactly as the
//!   reference switch sends them. A packet-out is validated and returned
//!   as a [`PacketOutRequest`] for the caller to execute.
//! - Asynchronous messages the switch originates (flow removed, port
//!   status, monitor updates, packet-ins) are queued and drained with
//!   [`Ofproto::take_async`]; connmgr filters them per connection.
//! - [`Ofproto::run`] expires idle and hard timeouts and evicts.
//! - Translation (`xlate`, owned by the xlate helper) reads the switch
//!   through [`Ofproto::lookup`], [`Ofproto::group`], [`Ofproto::meter`],
//!   [`Ofproto::port`] and [`Ofproto::ports`].
//!
//! This room depends on `packet`, `flow`, `openflow` and `classifier`; it
//! never touches the datapath or the database.

pub mod bundle_txn;
pub mod expiry;
pub mod flow_mod;
pub mod group;
pub mod handler;
pub mod hmap_order;
pub mod mac_learning;
pub mod meter;
pub mod normal;
pub mod ofproto;
pub mod port;
pub mod rule;
pub mod stats;
pub mod table;
pub mod tlv;
pub mod trace;
pub mod vlan;
pub mod xlate;

pub use group::{Bucket, Group};
pub use handler::{AsyncMsg, ConnState, PacketOutRequest};
pub use meter::Meter;
pub use ofproto::Ofproto;
pub use port::{OfPort, PortKind};
pub use rule::Rule;

//! The ofproto room of ferrovs: one OpenFlow switch (a bridge) as
//! controllers see it — the counterpart of Open vSwitch's `ofproto/`.
//!
//! An [`Ofproto`] owns 255 flow tables (each a versioned
//! [`classifier::Classifier`] of [`Rule`]s, so that a bundle commit becomes
//! visible atomically; table 254 is hidden and read-only), the group table
//! ([`Group`]), the meter table ([`Meter`]), the OpenFlow ports
//! ([`OfPort`], added and removed by the vswitchd), the tunnel-metadata TLV
//! map and the switch configuration.
//!
//! Who calls what:
//! - The vswitchd's connection manager hands every OpenFlow request
//!   (except hello/echo) to [`Ofproto::handle_openflow`] with the
//!   connection's [`ConnState`]; the replies come back as encoded messages
//!   in the connection's version, errors as `OFPT_ERROR` exactly as the
//!   reference switch sends them. Packet-outs, conntrack flushes and
//!   resumes are validated and left on the [`ConnState`] for the caller
//!   to execute ([`ConnState::take_packet_outs`], ...).
//! - Asynchronous messages the switch originates (flow removed, port
//!   status, monitor updates, role status, packet-ins from translation)
//!   are drained with [`Ofproto::take_async`];
//!   [`handler::asyncmsg::encode_for`] filters and encodes them for each
//!   connection as upstream's connmgr does.
//! - [`Ofproto::run`] expires idle and hard timeouts.
//! - Translation ([`xlate`], with [`normal`], [`mac_learning`], [`vlan`]
//!   and [`trace`]) reads the switch through [`Ofproto::lookup`],
//!   [`Ofproto::group`], [`Ofproto::meter`], [`Ofproto::port`] and
//!   [`Ofproto::ports`], and hands learned flows back through
//!   [`Ofproto::apply_learned_flow`].
//!
//! The switch core, bottom up:
//! - [`rule`], [`group`], [`meter`], [`port`], [`table`]: what the tables
//!   hold, with atomic counters translation bumps without locking.
//! - [`bundle_txn`]: transactions staged in the next classifier version,
//!   committed or rolled back whole (every flow-mod is one; a bundle is one).
//! - [`flow_mod`]: add/modify/delete semantics of every OpenFlow version,
//!   eviction, learned and internal flows.
//! - [`expiry`]: idle and hard timeouts.
//! - [`mirror`]: the bridge's port mirrors (selection, destinations,
//!   counters), which translation applies.
//! - [`tlv`], [`stats`], [`hmap_order`] (the order upstream's hash maps
//!   list ports and groups in).
//! - [`handler`]: one module per message family (switch, flows, tables,
//!   ports, groups, meters, TLV, bundles, monitors, packet-out), the
//!   dispatcher, multipart replies and asynchronous messages.
//!
//! This room depends on `packet`, `flow`, `openflow` and `classifier`; it
//! never touches the datapath or the database.

pub mod bundle_txn;
pub mod expiry;
pub mod flow_mod;
pub mod group;
pub mod handler;
pub mod hidden;
pub mod hmap_order;
pub mod mac_learning;
pub mod meter;
pub mod mirror;
pub mod normal;
pub mod ofproto;
pub mod port;
pub mod rule;
pub mod stats;
pub mod table;
pub mod tlv;
pub mod tnl;
pub mod trace;
pub mod vlan;
pub mod xlate;

pub use group::{Bucket, Group};
pub use handler::{AsyncMsg, ConnState, PacketOutRequest};
pub use meter::Meter;
pub use ofproto::{Clock, Ofproto};
pub use port::{OfPort, PortKind};
pub use rule::Rule;

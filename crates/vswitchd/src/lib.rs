//! The switch daemon's room (`ovs-vswitchd`): it reconciles the
//! Open_vSwitch database into bridges, ports and interfaces, writes their
//! status back, serves the OpenFlow connections of each bridge and
//! registers the daemon's `ovs-appctl` commands.
//!
//! - [`config`]: the wanted configuration read out of the database.
//! - [`bridge`]: one bridge brought to its configuration incrementally;
//!   [`ofport`]: OpenFlow port numbering.
//! - [`device`]: the forwarding side of a bridge ([`device::PortBackend`]);
//!   [`dpbackend`]: bridges on the userspace datapath (`datapath` room);
//!   [`tunnel`]: tunnel interfaces' options and their shared vports.
//! - [`connmgr`]: the OpenFlow connections of a bridge (management socket,
//!   controllers, fail mode) in front of its `ofproto::Ofproto`.
//! - [`switch`]: every bridge, reconfigured in one pass; [`status`]: what
//!   is written back; [`db`]: the database client (IDL, lock, `cur_cfg`).
//! - [`upcall`]: translation of datapath upcalls (and traces) over every
//!   bridge; learned flows, packet-ins.
//! - [`revalidator`]: keeps datapath megaflows true to the OpenFlow
//!   tables, credits their statistics to rules, expires idle ones.
//! - [`native_tnl`]: `ovs/route/*`, `tnl/*`, the IP devices and system
//!   routes ([`rtnl`]) native tunnelling needs.
//! - [`daemon`]: `--detach`, pidfiles; [`clock`]: the daemon's monotonic
//!   clock (`time/stop`, `time/warp`).
//!
//! This room sits above `ovsdb`, `rpc`, `netdev` and (as they land)
//! `ofproto` and `datapath`; only the `cli` binary sits above it.

pub mod appctl;
pub mod bridge;
pub mod clock;
pub mod config;
pub mod connmgr;
pub mod daemon;
pub mod db;
pub mod device;
pub mod dpbackend;
mod hash_order;
pub mod native_tnl;
pub mod ofport;
pub mod revalidator;
pub mod rtnl;
pub mod status;
pub mod switch;
pub mod tunnel;
pub mod upcall;

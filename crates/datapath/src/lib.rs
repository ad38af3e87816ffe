//! The datapath room of ferrovs: the userspace fast path (upstream's
//! dpif-netdev).
//!
//! - [`dpif`]: the contract — the [`Dpif`] trait, upcalls
//!   ([`UpcallHandler`], [`Upcall`], [`UpcallReply`]), flows, statistics,
//!   and the life of a packet through the threads.
//! - [`DpifNetdev`] ([`netdev_dp`]): the implementation — ports over
//!   [`netdev`] devices, forwarding threads, the handler thread.
//! - [`pmd`]: the per-packet path (receive, EMC, megaflows, upcall, output
//!   batching); [`emc`]: the exact-match cache; [`megaflow`]: the megaflow
//!   table and its classifier; [`exec`]: the action executor.
//! - [`vport`]: tunnel vports (`vxlan`, `geneve`, `gre`) for `tnl_pop`.
//! - [`show`]: the text of `dpctl/show`, `dpif/show`, `dpctl/dump-flows`,
//!   `dpif-netdev/pmd-stats-show`.
//! - [`dp_config`]: `other_config` settings of the datapath
//!   (`pmd-maxsleep`, `pmd-cpu-mask`).
//! - [`dpctl`]: the `dpctl/*` commands, text in and text out.
//! - [`packet_text`]: frames from the text `netdev-dummy/receive` takes.
//!
//! This room sits above `netdev`, `flow` and `packet`; it never imports
//! ofproto or vswitchd (the control plane reaches it through
//! [`UpcallHandler`]).

pub mod dp_config;
pub mod dpctl;
pub mod dpif;
pub mod emc;
pub mod exec;
pub mod megaflow;
pub mod meter;
pub mod netdev_dp;
pub mod packet_text;
pub mod pmd;
pub mod show;
pub mod vport;

pub use dpif::{
    DpPort, DpStats, Dpif, DpifError, DpifFlow, DropReason, FlowStats, MeterBand, MeterConfig,
    MeterStats, PmdConfig, PmdStats, PutMode, Upcall, UpcallHandler, UpcallKind, UpcallReply,
};
pub use netdev_dp::DpifNetdev;

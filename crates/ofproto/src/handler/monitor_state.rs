//! Flow monitor state: the monitor specs a connection registered and the
//! updates the switch produces for them.

use flow::Match;

/// One registered flow monitor (NXST/ONFST/OFPST flow monitor request).
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorSpec {
    pub id: u32,
    pub flags: u16,
    pub out_port: u32,
    pub table_id: u8,
    pub match_: Match,
}

/// Event kinds of a flow update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowUpdateEvent {
    Added,
    Deleted,
    Modified,
}

/// A change to a rule that monitors may want to see.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowUpdate {
    pub event: FlowUpdateEvent,
    pub reason: u8,
    pub table_id: u8,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub cookie: u64,
    pub match_: Match,
    pub actions: Vec<flow::actions::OfpAction>,
}

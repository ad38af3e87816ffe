//! Recirculation ids and the frozen translation states they stand for.
//!
//! When translation must stop and resume after the datapath has done
//! something (conntrack, re-parsing after an MPLS pop, a paused controller
//! action), it freezes what it needs to resume — the bridge, the table,
//! pipeline metadata, the stack, the remaining actions and action set —
//! under a recirculation id, and emits `recirc(id)`.  A packet coming back
//! with that `recirc_id` is thawed from the state.
//!
//! Ids are process-wide (as upstream, every bridge shares one id space),
//! start at 1, and an identical state gets the id it already has.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use flow::actions::OfpAction;
use flow::MfValue;
use packet::Flow;

/// What is needed to resume translation.
#[derive(Clone, Debug, PartialEq)]
pub struct FrozenState {
    /// The bridge to resume in.
    pub bridge: String,
    /// Table to look up in when there are no frozen actions.
    pub table_id: u8,
    /// Pipeline metadata at the freeze: tunnel, metadata, registers,
    /// in_port (the rest of the flow comes from the recirculated packet).
    pub metadata: FrozenMetadata,
    pub stack: Vec<MfValue>,
    pub conntracked: bool,
    pub was_mpls: bool,
    /// Mirrors already used before the freeze.
    pub mirrors: u32,
    /// Actions to execute on thaw.
    pub actions: Vec<OfpAction>,
    /// The action set to restore.
    pub action_set: Vec<OfpAction>,
    /// Userdata of a paused controller action.
    pub userdata: Vec<u8>,
}

/// Pipeline metadata kept across a freeze.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FrozenMetadata {
    pub tunnel: packet::flow::FlowTnl,
    pub metadata: u64,
    pub regs: [u32; packet::flow::FLOW_N_REGS],
    pub in_port: u32,
}

impl FrozenMetadata {
    pub fn from_flow(f: &Flow) -> FrozenMetadata {
        FrozenMetadata {
            tunnel: f.tunnel,
            metadata: f.metadata,
            regs: f.regs,
            in_port: f.in_port,
        }
    }

    pub fn to_flow(&self, f: &mut Flow) {
        f.tunnel = self.tunnel;
        f.metadata = self.metadata;
        f.regs = self.regs;
        f.in_port = self.in_port;
    }
}

#[derive(Default)]
struct Pool {
    next: u32,
    by_id: HashMap<u32, FrozenState>,
}

/// Most frozen states kept at once; the oldest are forgotten beyond it.
const MAX_STATES: usize = 65536;

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Pool::default()))
}

/// The id of `state` (an existing one if the same state is frozen
/// already).  Returns 0 only if the id space is exhausted.
pub fn alloc(state: FrozenState) -> u32 {
    let mut p = match pool().lock() {
        Ok(p) => p,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((id, _)) = p.by_id.iter().find(|(_, s)| **s == state) {
        return *id;
    }
    if p.by_id.len() >= MAX_STATES {
        if let Some(oldest) = p.by_id.keys().min().copied() {
            p.by_id.remove(&oldest);
        }
    }
    let mut id = p.next.wrapping_add(1);
    let mut tries = 0u64;
    while id == 0 || p.by_id.contains_key(&id) {
        id = id.wrapping_add(1);
        tries += 1;
        if tries > u64::from(u32::MAX) {
            return 0;
        }
    }
    p.next = id;
    p.by_id.insert(id, state);
    id
}

/// The state frozen under `id`.
pub fn lookup(id: u32) -> Option<FrozenState> {
    let p = match pool().lock() {
        Ok(p) => p,
        Err(poisoned) => poisoned.into_inner(),
    };
    p.by_id.get(&id).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(t: u8) -> FrozenState {
        FrozenState {
            bridge: "recirc-test".into(),
            table_id: t,
            metadata: FrozenMetadata::default(),
            stack: Vec::new(),
            conntracked: false,
            was_mpls: false,
            mirrors: 0,
            actions: Vec::new(),
            action_set: Vec::new(),
            userdata: Vec::new(),
        }
    }

    #[test]
    fn same_state_same_id() {
        let a = alloc(st(200));
        let b = alloc(st(201));
        assert_ne!(a, 0);
        assert_ne!(a, b);
        assert_eq!(alloc(st(200)), a);
        assert_eq!(lookup(b).unwrap().table_id, 201);
    }
}

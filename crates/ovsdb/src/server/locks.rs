//! Database locks (RFC 7047 §4.1.8–4.1.10): per lock name, a queue of
//! waiting clients whose head owns the lock. `lock` joins the queue,
//! `steal` jumps to its head (the previous owner is told `stolen` and
//! waits behind the thief), `unlock` or a disconnect leaves it (the next
//! waiter is told `locked`). [`Locks::client_status`] lists a client's
//! locks held, waited for and lost (the Manager `status` keys).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A client, as the server numbers its connections.
pub type ClientId = u64;

/// A notification to deliver: `(client, "locked" | "stolen", lock name)`.
pub type LockEvent = (ClientId, &'static str, String);

#[derive(Default, Debug)]
pub struct Locks {
    queues: BTreeMap<String, VecDeque<ClientId>>,
    /// The clients that joined a queue with `steal`, and the order in
    /// which each client's locks were asked for.
    stealers: BTreeSet<(ClientId, String)>,
    asked: BTreeMap<ClientId, Vec<String>>,
}

/// A client's locks by state, each in the order upstream lists them.
#[derive(Debug, Default, PartialEq)]
pub struct LockStatus {
    pub held: Vec<String>,
    pub waiting: Vec<String>,
    /// Taken with `steal`, then stolen by another client.
    pub lost: Vec<String>,
}

impl Locks {
    fn note_asked(&mut self, client: ClientId, name: &str, steal: bool) {
        let asked = self.asked.entry(client).or_default();
        if !asked.iter().any(|n| n == name) {
            asked.push(name.to_string());
        }
        if steal {
            self.stealers.insert((client, name.to_string()));
        } else {
            self.stealers.remove(&(client, name.to_string()));
        }
    }

    fn forget(&mut self, client: ClientId, name: &str) {
        if let Some(asked) = self.asked.get_mut(&client) {
            asked.retain(|n| n != name);
            if asked.is_empty() {
                self.asked.remove(&client);
            }
        }
        self.stealers.remove(&(client, name.to_string()));
    }

    /// `client`'s locks, in the order of upstream's hash map of a
    /// session's lock requests.
    pub fn client_status(&self, client: ClientId) -> LockStatus {
        let mut st = LockStatus::default();
        let Some(asked) = self.asked.get(&client) else {
            return st;
        };
        let names: Vec<&str> = asked.iter().map(String::as_str).collect();
        for i in rpc::json_text::shash_order(&names) {
            let name = names[i].to_string();
            if self.is_owner(client, &name) {
                st.held.push(name);
            } else if self.stealers.contains(&(client, name.clone())) {
                st.lost.push(name);
            } else {
                st.waiting.push(name);
            }
        }
        st
    }

    /// True if `client` waits for or holds `name`.
    pub fn is_waiting(&self, client: ClientId, name: &str) -> bool {
        self.queues.get(name).is_some_and(|q| q.contains(&client))
    }

    /// True if `client` holds `name`.
    pub fn is_owner(&self, client: ClientId, name: &str) -> bool {
        self.queues.get(name).and_then(|q| q.front()) == Some(&client)
    }

    /// Joins the queue; returns whether the lock is now held.
    pub fn lock(&mut self, client: ClientId, name: &str) -> bool {
        self.note_asked(client, name, false);
        let q = self.queues.entry(name.to_string()).or_default();
        q.push_back(client);
        q.front() == Some(&client)
    }

    /// Takes the lock at once; the previous owner is told `stolen`.
    pub fn steal(&mut self, client: ClientId, name: &str) -> Vec<LockEvent> {
        self.note_asked(client, name, true);
        let q = self.queues.entry(name.to_string()).or_default();
        let mut events = Vec::new();
        if let Some(&owner) = q.front() {
            if owner != client {
                events.push((owner, "stolen", name.to_string()));
            }
        }
        q.retain(|&c| c != client);
        q.push_front(client);
        events
    }

    /// Leaves the queue of `name`; the new owner, if any, is told `locked`.
    pub fn unlock(&mut self, client: ClientId, name: &str) -> Vec<LockEvent> {
        let mut events = Vec::new();
        self.forget(client, name);
        if let Some(q) = self.queues.get_mut(name) {
            let was_owner = q.front() == Some(&client);
            q.retain(|&c| c != client);
            if was_owner {
                if let Some(&next) = q.front() {
                    events.push((next, "locked", name.to_string()));
                }
            }
            if q.is_empty() {
                self.queues.remove(name);
            }
        }
        events
    }

    /// Leaves every queue (the client disconnected).
    pub fn release_all(&mut self, client: ClientId) -> Vec<LockEvent> {
        let names: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| q.contains(&client))
            .map(|(n, _)| n.clone())
            .collect();
        names.iter().flat_map(|n| self.unlock(client, n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_steal_and_release() {
        let mut l = Locks::default();
        assert!(l.lock(1, "L"));
        assert!(!l.lock(2, "L"));
        assert!(l.is_owner(1, "L") && l.is_waiting(2, "L"));
        assert_eq!(l.steal(3, "L"), vec![(1, "stolen", "L".to_string())]);
        assert!(l.is_owner(3, "L"));
        assert_eq!(l.unlock(3, "L"), vec![(1, "locked", "L".to_string())]);
        assert_eq!(l.release_all(1), vec![(2, "locked", "L".to_string())]);
        assert_eq!(l.unlock(2, "L"), vec![]);
        assert!(!l.is_waiting(2, "L"));
        assert!(l.asked.is_empty() && l.stealers.is_empty());
    }

    #[test]
    fn status_lists_held_waiting_and_lost() {
        let mut l = Locks::default();
        // Upstream listed "L2 L1" for a session holding L1 and L2.
        for n in ["L1", "L2", "L3"] {
            l.lock(1, n);
        }
        l.steal(2, "L3");
        assert_eq!(
            l.client_status(1),
            LockStatus {
                held: vec!["L2".into(), "L1".into()],
                waiting: vec!["L3".into()],
                lost: vec![],
            }
        );
        l.steal(3, "L3");
        assert_eq!(l.client_status(2).lost, vec!["L3".to_string()]);
        l.release_all(2);
        assert_eq!(l.client_status(2), LockStatus::default());
    }
}

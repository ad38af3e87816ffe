//! The order in which upstream walks a string hash map (`shash`/`sset`)
//! whose keys come and go: bucket by bucket, newest first within a
//! bucket; the map doubles when it holds more than twice its buckets and
//! never shrinks. `list_dbs` answers in the order of the server's map of
//! databases, and the server opens the database files named on its command
//! line in the order of a set of their names ([`set_order`]); both follow
//! from the history of insertions and removals, which this replays.

use rpc::json_text::{hash_bytes, hmap_mask};

/// A replica of an upstream string hash map's layout (keys only).
#[derive(Debug, Clone)]
pub struct ShashOrder {
    buckets: Vec<Vec<(u32, String)>>,
    mask: usize,
    n: usize,
}

impl Default for ShashOrder {
    fn default() -> Self {
        ShashOrder {
            buckets: vec![Vec::new()],
            mask: 0,
            n: 0,
        }
    }
}

impl ShashOrder {
    pub fn contains(&self, key: &str) -> bool {
        let h = hash_bytes(key.as_bytes(), 0);
        self.buckets[h as usize & self.mask]
            .iter()
            .any(|(_, k)| k == key)
    }

    /// Adds `key` (nothing if present, as a set does).
    pub fn insert(&mut self, key: &str) {
        if self.contains(key) {
            return;
        }
        let h = hash_bytes(key.as_bytes(), 0);
        self.buckets[h as usize & self.mask].insert(0, (h, key.to_string()));
        self.n += 1;
        if self.n / 2 > self.mask {
            let new_mask = hmap_mask(self.n);
            if new_mask > self.mask {
                let mut grown = vec![Vec::new(); new_mask + 1];
                for (h, k) in self.buckets.drain(..).flatten() {
                    let b: &mut Vec<(u32, String)> = &mut grown[h as usize & new_mask];
                    b.insert(0, (h, k));
                }
                self.buckets = grown;
                self.mask = new_mask;
            }
        }
    }

    /// Removes `key` (the map keeps its size).
    pub fn remove(&mut self, key: &str) {
        let h = hash_bytes(key.as_bytes(), 0);
        let b = &mut self.buckets[h as usize & self.mask];
        if let Some(i) = b.iter().position(|(_, k)| k == key) {
            b.remove(i);
            self.n -= 1;
        }
    }

    /// The keys in iteration order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.buckets.iter().flatten().map(|(_, k)| k.as_str())
    }
}

/// `items` without repeats, in the order upstream's ovsdb-server opens
/// the database files named on its command line: it adds them to a set,
/// saves the set (in its order) to its configuration file, empties the set
/// (which keeps its size) and adds the saved names back in turn, then
/// walks it.
pub fn set_order(items: &[String]) -> Vec<String> {
    let mut set = ShashOrder::default();
    for i in items {
        set.insert(i);
    }
    let saved: Vec<String> = set.keys().map(str::to_string).collect();
    for b in &mut set.buckets {
        b.clear();
    }
    set.n = 0;
    for i in &saved {
        set.insert(i);
    }
    set.keys().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What upstream's server does at startup: opens `files` in set
    /// order (each named after its file here), then adds `_Server`.
    fn started(files: &[&str]) -> Vec<(String, bool)> {
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        let mut ops: Vec<(String, bool)> = set_order(&files)
            .iter()
            .map(|f| {
                let base = f.rsplit('/').next().unwrap_or(f);
                (base.trim_end_matches(".db").to_string(), true)
            })
            .collect();
        ops.push(("_Server".into(), true));
        ops
    }

    fn listed(ops: &[(String, bool)]) -> Vec<String> {
        let mut m = ShashOrder::default();
        for (k, add) in ops {
            if *add {
                m.insert(k);
            } else {
                m.remove(k);
            }
        }
        m.keys().map(str::to_string).collect()
    }

    #[test]
    fn list_dbs_orders_match_upstream() {
        // Observed with upstream's ovsdb-server: files opened, `_Server`
        // added, then add-db/remove-db.
        let mut ops = started(&["Alpha.db", "Beta.db", "Gamma.db"]);
        assert_eq!(listed(&ops), ["Beta", "Gamma", "Alpha", "_Server"]);
        assert_eq!(
            listed(&started(&["Gamma.db", "Beta.db", "Alpha.db"])),
            listed(&ops)
        );
        ops.push(("Delta".into(), true));
        assert_eq!(listed(&ops), ["Delta", "Beta", "Gamma", "Alpha", "_Server"]);
        for (k, add) in [("Alpha", false), ("Epsilon", true), ("Alpha", true)] {
            ops.push((k.into(), add));
        }
        assert_eq!(
            listed(&ops),
            ["Delta", "Beta", "Gamma", "Alpha", "Epsilon", "_Server"]
        );
        let six = started(&[
            "/tmp/ld/Gamma.db",
            "Beta.db",
            "Alpha.db",
            "Open_vSwitch.db",
            "Epsilon.db",
            "Delta.db",
        ]);
        assert_eq!(
            listed(&six),
            [
                "Delta",
                "Beta",
                "Gamma",
                "Epsilon",
                "Alpha",
                "_Server",
                "Open_vSwitch"
            ]
        );
        assert_eq!(
            listed(&started(&["Open_vSwitch.db"])),
            ["Open_vSwitch", "_Server"]
        );
        for (dir, want) in [
            ("/tmp/ld/", ["Beta", "Gamma"]),
            ("/tmp/ferrovs-listdbs-12345/", ["Gamma", "Beta"]),
            ("/tmp/ferrovs-listdbs-999/", ["Gamma", "Beta"]),
        ] {
            let files: Vec<String> = ["Gamma", "Beta", "Alpha", "Open_vSwitch"]
                .iter()
                .map(|n| format!("{dir}{n}.db"))
                .collect();
            let refs: Vec<&str> = files.iter().map(String::as_str).collect();
            let got = listed(&started(&refs));
            assert_eq!(got[..2], want, "{dir}");
            assert_eq!(got[2..], ["Alpha", "_Server", "Open_vSwitch"], "{dir}");
        }
    }

    #[test]
    fn files_open_in_set_order() {
        // Upstream names the same missing file first whatever the argv order.
        let a = set_order(&["x1.db".into(), "x2.db".into()]);
        let b = set_order(&["x2.db".into(), "x1.db".into(), "x2.db".into()]);
        assert_eq!(a, b);
        assert_eq!(a[0], "x2.db");
        let c = set_order(&[
            "aa.db".into(),
            "bb.db".into(),
            "cc.db".into(),
            "dd.db".into(),
        ]);
        assert_eq!(c[0], "dd.db");
    }
}

//! Multipart (stats) replies: entries appended to a reply are split over
//! as many messages as needed, every one but the last flagged "more".

use openflow::raw::{finish, start, OfpRaw};

/// Largest OpenFlow message.
const MAX_MSG: usize = 65535;

/// A multipart reply being built.
pub struct Multipart {
    raw: OfpRaw,
    version: u8,
    xid: u32,
    done: Vec<Vec<u8>>,
    cur: Vec<u8>,
    head_len: usize,
}

impl Multipart {
    /// An empty reply of layout `raw` for a request with `xid`.
    pub fn new(raw: OfpRaw, version: u8, xid: u32) -> Multipart {
        let cur = start(raw, version, xid);
        let head_len = cur.len();
        Multipart {
            raw,
            version,
            xid,
            done: Vec::new(),
            cur,
            head_len,
        }
    }

    /// Appends one entry, starting a new message if it would not fit.
    pub fn push(&mut self, entry: &[u8]) {
        if self.cur.len() + entry.len() > MAX_MSG && self.cur.len() > self.head_len {
            let mut full =
                std::mem::replace(&mut self.cur, start(self.raw, self.version, self.xid));
            full[10] |= 0;
            full[11] |= 1;
            self.done.push(finish(full));
        }
        self.cur.extend_from_slice(entry);
    }

    /// The messages of the reply.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        self.done.push(finish(self.cur));
        self.done
    }
}

/// A single-message reply of layout `raw` with `body`.
pub fn reply(raw: OfpRaw, version: u8, xid: u32, body: &[u8]) -> Vec<u8> {
    let mut m = start(raw, version, xid);
    m.extend_from_slice(body);
    finish(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_long_replies_with_more_flags() {
        let mut mp = Multipart::new(OfpRaw::OFPST13_FLOW_REPLY, 4, 7);
        for _ in 0..100 {
            mp.push(&[0u8; 1000]);
        }
        let msgs = mp.finish();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0][11], 1);
        assert_eq!(msgs[1][11], 0);
        let total: usize = msgs.iter().map(|m| m.len() - 16).sum();
        assert_eq!(total, 100_000);
        assert!(msgs.iter().all(|m| m.len() <= MAX_MSG));
        assert_eq!(
            openflow::decode_raw(&msgs[0]),
            Ok(OfpRaw::OFPST13_FLOW_REPLY)
        );
    }
}

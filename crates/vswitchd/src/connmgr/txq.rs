//! A connection's transmit side, as upstream's rconn and vconn keep it: a
//! queue of whole messages waiting for the socket, and the one message
//! the socket is part way through (taken from the queue as soon as the
//! socket is free, even before any of its bytes could be written).
//!
//! Messages are counted by what they are, since upstream caps two kinds:
//! packet-ins waiting in the queue beyond the connection's
//! `controller_queue_size` are dropped (the caller logs them; upstream
//! also counts them for `coverage/show`, which ours lacks), and a connection with
//! [`REPLY_MAX`] replies waiting is not read from until the peer takes
//! some. Other asynchronous messages, hellos and probes queue without a
//! cap, as upstream's do. The message being written counts as sent.
//!
//! No I/O here: [`TxQueue::unsent`] is what to write next and
//! [`TxQueue::wrote`] says how much the socket took.

use std::collections::VecDeque;

/// Replies waiting beyond which a connection's requests are not read
/// (upstream's `OFCONN_REPLY_MAX`).
pub const REPLY_MAX: usize = 100;

/// Packet-ins that may wait for a controller by default (the Controller
/// table's `controller_queue_size`).
pub const DEFAULT_QUEUE_SIZE: usize = 100;

/// What a queued message is, for the caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A reply (or error) to the peer's request.
    Reply,
    /// A packet-in.
    PacketIn,
    /// Anything else: hello, echo request, other asynchronous messages.
    Other,
}

/// See the module comment.
#[derive(Debug, Default)]
pub struct TxQueue {
    /// The message the socket is part way through, and how much of it
    /// was written.
    in_flight: Option<(Vec<u8>, usize)>,
    queue: VecDeque<(Vec<u8>, Kind)>,
    packet_ins: usize,
    replies: usize,
}

impl TxQueue {
    pub fn new() -> TxQueue {
        TxQueue::default()
    }

    /// Queues `msg`.
    pub fn push(&mut self, msg: Vec<u8>, kind: Kind) {
        match kind {
            Kind::Reply => self.replies += 1,
            Kind::PacketIn => self.packet_ins += 1,
            Kind::Other => {}
        }
        self.queue.push_back((msg, kind));
        self.refill();
    }

    /// Queues packet-in `msg` unless `limit` packet-ins already wait;
    /// false when it was dropped.
    pub fn push_packet_in(&mut self, msg: Vec<u8>, limit: usize) -> bool {
        // The socket may have room now: whatever it took is no longer
        // waiting.
        self.refill();
        if self.packet_ins >= limit {
            return false;
        }
        self.push(msg, Kind::PacketIn);
        true
    }

    /// Replies waiting in the queue.
    pub fn replies(&self) -> usize {
        self.replies
    }

    /// Packet-ins waiting in the queue.
    pub fn packet_ins(&self) -> usize {
        self.packet_ins
    }

    /// Messages waiting, the one being written left out.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// True while something waits to be written.
    pub fn has_unsent(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The bytes to write next (empty when nothing waits).
    pub fn unsent(&self) -> &[u8] {
        match &self.in_flight {
            Some((m, pos)) => m.get(*pos..).unwrap_or(&[]),
            None => &[],
        }
    }

    /// The socket took `n` bytes of [`TxQueue::unsent`].
    pub fn wrote(&mut self, n: usize) {
        if let Some((m, pos)) = self.in_flight.as_mut() {
            *pos += n;
            if *pos >= m.len() {
                self.in_flight = None;
            }
        }
        self.refill();
    }

    /// Moves the next message to the socket when it is free.
    fn refill(&mut self) {
        if self.in_flight.is_some() {
            return;
        }
        if let Some((m, kind)) = self.queue.pop_front() {
            match kind {
                Kind::Reply => self.replies -= 1,
                Kind::PacketIn => self.packet_ins -= 1,
                Kind::Other => {}
            }
            self.in_flight = Some((m, 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_being_written_counts_as_sent() {
        let mut q = TxQueue::new();
        assert!(q.push_packet_in(vec![1; 10], 1));
        // Taken at once by the free socket: none waits.
        assert_eq!((q.packet_ins(), q.has_unsent()), (0, true));
        assert!(q.push_packet_in(vec![2; 10], 1));
        assert_eq!(q.packet_ins(), 1);
        assert!(!q.push_packet_in(vec![3; 10], 1));
        assert_eq!(q.packet_ins(), 1);
        q.wrote(4);
        assert_eq!(q.unsent(), &[1; 6]);
        q.wrote(6);
        assert_eq!(q.unsent(), &[2; 10]);
        assert_eq!(q.packet_ins(), 0);
        assert!(q.push_packet_in(vec![4; 10], 1));
    }

    #[test]
    fn replies_are_counted_apart_from_packet_ins() {
        let mut q = TxQueue::new();
        q.push(vec![0], Kind::Other);
        for _ in 0..3 {
            q.push(vec![1], Kind::Reply);
        }
        assert!(q.push_packet_in(vec![2], 5));
        assert_eq!((q.replies(), q.packet_ins(), q.len()), (3, 1, 4));
        let mut order = Vec::new();
        while q.has_unsent() {
            order.push(q.unsent()[0]);
            let n = q.unsent().len();
            q.wrote(n);
        }
        assert_eq!(order, [0, 1, 1, 1, 2]);
        assert_eq!((q.replies(), q.packet_ins(), q.is_empty()), (0, 0, true));
    }
}

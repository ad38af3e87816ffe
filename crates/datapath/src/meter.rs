//! Datapath meters: token buckets that `meter(N)` actions consult, as
//! upstream's userspace datapath keeps them. Each band's bucket holds up to
//! its burst (or, without one, its rate) and refills at its rate; a packet
//! costs its size in bits (kbps meters) or one packet. A packet that finds
//! some bands' buckets short is handled by the exceeded band with the
//! highest rate: datapath bands drop.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use crate::dpif::{DpifError, MeterConfig, MeterStats};

struct Band {
    rate: u64,
    capacity: u64,
    bucket: u64,
    packets: u64,
    bytes: u64,
}

struct Meter {
    kbps: bool,
    bands: Vec<Band>,
    last_ms: u64,
    packets_in: u64,
    bytes_in: u64,
}

impl Meter {
    fn new(c: &MeterConfig, now: u64) -> Meter {
        Meter {
            kbps: c.kbps,
            bands: c
                .bands
                .iter()
                .map(|b| {
                    let burst = if b.burst_size == 0 {
                        b.rate
                    } else {
                        b.burst_size
                    };
                    let capacity = burst as u64 * 1000;
                    Band {
                        rate: b.rate as u64,
                        capacity,
                        bucket: capacity,
                        packets: 0,
                        bytes: 0,
                    }
                })
                .collect(),
            last_ms: now,
            packets_in: 0,
            bytes_in: 0,
        }
    }

    /// Whether a packet of `len` bytes passes at `now` (ms).
    fn admit(&mut self, len: usize, now: u64) -> bool {
        let elapsed = now.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now);
        self.packets_in += 1;
        self.bytes_in += len as u64;
        let cost = if self.kbps { len as u64 * 8 } else { 1000 };
        let mut exceeded: Option<(usize, u64)> = None;
        for (i, b) in self.bands.iter_mut().enumerate() {
            b.bucket = (b.bucket + b.rate.saturating_mul(elapsed)).min(b.capacity);
            if b.bucket >= cost {
                b.bucket -= cost;
            } else if exceeded.is_none_or(|(_, r)| r < b.rate) {
                exceeded = Some((i, b.rate));
            }
        }
        let exceeded = exceeded.map(|(i, _)| i);
        match exceeded {
            Some(i) => {
                let b = &mut self.bands[i];
                b.packets += 1;
                b.bytes += len as u64;
                false
            }
            None => true,
        }
    }

    fn stats(&self) -> MeterStats {
        MeterStats {
            packets_in: self.packets_in,
            bytes_in: self.bytes_in,
            bands: self.bands.iter().map(|b| (b.packets, b.bytes)).collect(),
        }
    }
}

/// Every meter of a datapath.
#[derive(Default)]
pub struct Meters {
    meters: RwLock<HashMap<u32, Mutex<Meter>>>,
}

impl Meters {
    pub fn set(&self, id: u32, c: &MeterConfig, now: u64) -> Result<(), DpifError> {
        let mut m = self.meters.write().map_err(|_| DpifError::Invalid)?;
        m.insert(id, Mutex::new(Meter::new(c, now)));
        Ok(())
    }

    pub fn del(&self, id: u32) -> Result<MeterStats, DpifError> {
        let mut m = self.meters.write().map_err(|_| DpifError::Invalid)?;
        let meter = m.remove(&id).ok_or(DpifError::NotFound)?;
        let st = meter.lock().map(|x| x.stats()).unwrap_or_default();
        Ok(st)
    }

    pub fn get(&self, id: u32) -> Result<MeterStats, DpifError> {
        let m = self.meters.read().map_err(|_| DpifError::Invalid)?;
        let meter = m.get(&id).ok_or(DpifError::NotFound)?;
        let st = meter.lock().map(|x| x.stats()).unwrap_or_default();
        Ok(st)
    }

    /// Whether meter `id` lets a `len`-byte packet through at `now`; a
    /// meter that does not exist lets everything through.
    pub fn admit(&self, id: u32, len: usize, now: u64) -> bool {
        let Ok(m) = self.meters.read() else {
            return true;
        };
        match m.get(&id) {
            Some(meter) => match meter.lock() {
                Ok(mut x) => x.admit(len, now),
                Err(_) => true,
            },
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpif::MeterBand;

    #[test]
    fn pktps_bucket_drops_beyond_burst_and_refills() {
        let ms = Meters::default();
        let c = MeterConfig {
            kbps: false,
            bands: vec![MeterBand {
                rate: 10,
                burst_size: 5,
            }],
        };
        ms.set(1, &c, 0).unwrap();
        let passed = (0..10).filter(|_| ms.admit(1, 100, 0)).count();
        assert_eq!(passed, 5, "burst of 5 packets");
        // 10 packets/s: one more after 100 ms.
        assert!(ms.admit(1, 100, 100));
        assert!(!ms.admit(1, 100, 100));
        let st = ms.get(1).unwrap();
        assert_eq!((st.packets_in, st.bands[0].0), (12, 6));
        assert!(ms.admit(9, 100, 0), "missing meters pass");
        assert_eq!(ms.del(1).unwrap().packets_in, 12);
        assert_eq!(ms.get(1), Err(DpifError::NotFound));
    }

    #[test]
    fn kbps_counts_bits() {
        let ms = Meters::default();
        let c = MeterConfig {
            kbps: true,
            bands: vec![MeterBand {
                rate: 8,
                burst_size: 0,
            }],
        };
        ms.set(2, &c, 0).unwrap();
        // 8 kbit bucket: 1000-byte packets pass once.
        assert!(ms.admit(2, 1000, 0));
        assert!(!ms.admit(2, 1000, 0));
        // 8 bits per ms: 1000 bytes need 1000 ms.
        assert!(ms.admit(2, 1000, 1000));
    }
}

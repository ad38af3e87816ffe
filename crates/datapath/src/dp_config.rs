//! The datapath's share of the `Open_vSwitch` table's `other_config`
//! (upstream's `dpif_netdev_set_config`): `pmd-maxsleep`, applied live to
//! the forwarding threads' load-based pause, and `pmd-cpu-mask`, which
//! sets how many forwarding threads run and where they are pinned.
//!
//! Values are read as upstream reads them (`pmd-maxsleep` as `strtoull`
//! does: leading blanks and a sign allowed, anything else makes it the
//! default; at most 10,000 µs) and logged as upstream logs them, the first
//! time and whenever they change. An absent `pmd-maxsleep` leaves this
//! datapath's own default pause ([`crate::PmdConfig::max_sleep_us`], 20
//! µs: its interrupt moderation) in force, where upstream's default is no
//! pause at all; an explicit `0` turns pausing off.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use crate::netdev_dp::DpifNetdev;
use crate::pmd::MAX_SLEEP_US;
use crate::Dpif;

/// What was last applied from `other_config` (upstream logs a setting the
/// first time and when it changes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    max_sleep_us: u32,
    cpu_mask: Option<String>,
}

/// `str_to_ullong(s, 10)` as upstream's `smap_get_ullong` uses it: optional
/// leading white space, an optional sign (a minus negates modulo 2^64), at
/// least one decimal digit, nothing after; `None` on overflow or junk.
pub fn parse_ullong(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = digits.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The pause `other_config` asks for, in microseconds, capped as upstream
/// caps it; `None` when the key is absent.
pub fn requested_max_sleep(other_config: &BTreeMap<String, String>) -> Option<u32> {
    let v = other_config.get("pmd-maxsleep")?;
    let us = parse_ullong(v).unwrap_or(0);
    Some(us.min(MAX_SLEEP_US as u64) as u32)
}

/// The CPUs a `pmd-cpu-mask` names that exist on this machine, in order;
/// `None` when the mask is not hexadecimal.
pub fn mask_cpus(mask: &str) -> Option<Vec<usize>> {
    let cfg = crate::PmdConfig::default().with_cpu_mask(mask)?;
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    let n = if n > 0 { n as usize } else { 1 };
    Some(cfg.cpus.into_iter().filter(|c| *c < n).collect())
}

impl DpifNetdev {
    /// Applies the datapath settings of the `Open_vSwitch` table's
    /// `other_config` (see the module documentation); called on every
    /// reconfiguration, it logs and acts only on what changed.
    pub fn set_other_config(&self, other_config: &BTreeMap<String, String>) {
        let default_sleep = crate::PmdConfig::default().max_sleep_us;
        let want = Applied {
            max_sleep_us: requested_max_sleep(other_config).unwrap_or(default_sleep),
            cpu_mask: other_config.get("pmd-cpu-mask").cloned(),
        };
        let before = {
            let Ok(mut applied) = self.inner.other_config.lock() else {
                return;
            };
            match applied.as_ref() {
                Some(a) if *a == want => return,
                _ => applied.replace(want.clone()),
            }
        };
        if before.as_ref().map(|b| b.max_sleep_us) != Some(want.max_sleep_us) {
            let us = want.max_sleep_us;
            self.inner.max_sleep_us.store(us, Relaxed);
            if let Ok(mut c) = self.inner.config.lock() {
                c.max_sleep_us = us;
            }
            vlog::info!("dpif_netdev", "PMD max sleep request is {us} usecs.");
            vlog::info!(
                "dpif_netdev",
                "PMD load based sleeps are {}.",
                if us > 0 { "enabled" } else { "disabled" }
            );
        }
        let old_mask = before.and_then(|b| b.cpu_mask);
        if old_mask != want.cpu_mask {
            let cpus = want
                .cpu_mask
                .as_deref()
                .and_then(mask_cpus)
                .unwrap_or_default();
            let Ok(current) = self.inner.config.lock().map(|c| c.clone()) else {
                return;
            };
            if current.cpus != cpus {
                let mut next = current;
                next.n_pmd = cpus.len().max(1);
                next.cpus = cpus;
                self.set_pmd_config(next);
            }
        }
    }

    /// The pause forwarding threads take at most after a light pass, in
    /// microseconds (what `pmd-maxsleep` set).
    pub fn max_sleep_us(&self) -> u32 {
        self.inner.max_sleep_us.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oc(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ullong_reads_as_strtoull() {
        assert_eq!(parse_ullong("50"), Some(50));
        assert_eq!(parse_ullong(" 60"), Some(60));
        assert_eq!(parse_ullong("+70"), Some(70));
        assert_eq!(parse_ullong("-0"), Some(0));
        assert_eq!(parse_ullong("-5"), Some(u64::MAX - 4));
        assert_eq!(parse_ullong("50abc"), None);
        assert_eq!(parse_ullong("0x20"), None);
        assert_eq!(parse_ullong("60 "), None);
        assert_eq!(parse_ullong(""), None);
        assert_eq!(parse_ullong("-"), None);
        assert_eq!(parse_ullong("99999999999999999999999"), None);
    }

    #[test]
    fn max_sleep_capped_and_defaulted_like_upstream() {
        assert_eq!(requested_max_sleep(&oc(&[])), None);
        assert_eq!(
            requested_max_sleep(&oc(&[("pmd-maxsleep", "50")])),
            Some(50)
        );
        assert_eq!(
            requested_max_sleep(&oc(&[("pmd-maxsleep", "20000")])),
            Some(10_000)
        );
        assert_eq!(
            requested_max_sleep(&oc(&[("pmd-maxsleep", "-5")])),
            Some(10_000)
        );
        assert_eq!(
            requested_max_sleep(&oc(&[("pmd-maxsleep", "abc")])),
            Some(0)
        );
    }

    #[test]
    fn applied_live_to_the_datapath() {
        let dp =
            DpifNetdev::create("dummy", "ovs-dpcfg", None, crate::PmdConfig::default()).unwrap();
        assert_eq!(dp.max_sleep_us(), 20);
        dp.set_other_config(&oc(&[("pmd-maxsleep", "300")]));
        assert_eq!(dp.max_sleep_us(), 300);
        dp.set_other_config(&oc(&[("pmd-maxsleep", "0")]));
        assert_eq!(dp.max_sleep_us(), 0);
        dp.set_other_config(&oc(&[]));
        assert_eq!(dp.max_sleep_us(), 20);
        dp.set_other_config(&oc(&[("pmd-cpu-mask", "1")]));
        assert_eq!(
            dp.inner.config.lock().unwrap().cpus,
            mask_cpus("1").unwrap()
        );
    }

    #[test]
    fn masks_name_existing_cpus() {
        assert_eq!(mask_cpus("0x1"), Some(vec![0]));
        assert_eq!(mask_cpus("zz"), None);
        let all = mask_cpus("ffffffffffffffffffffffffffffffff").unwrap();
        assert!(!all.is_empty() && all.len() <= 128);
    }
}

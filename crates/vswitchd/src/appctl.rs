//! The daemon's `ovs-appctl` commands, with upstream's names, usage
//! strings, argument counts and answers (`list-commands` and `version`
//! come with the unixctl server).

use crate::dpbackend::Datapaths;
use crate::switch::Switch;
use rpc::unixctl::Commands;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What the commands act on.
#[derive(Clone)]
pub struct Daemon {
    pub switch: Arc<Mutex<Switch>>,
    /// Notified by `exit`.
    pub shutdown: Arc<Notify>,
    /// Set by `exit --cleanup`.
    pub cleanup: Arc<AtomicBool>,
    /// Asks the database client for a status refresh.
    pub wake: Arc<Notify>,
    /// Cells in the database replica (for `memory/show`).
    pub idl_cells: Arc<AtomicUsize>,
    /// The userspace datapaths.
    pub datapaths: Arc<Datapaths>,
}

impl Daemon {
    pub fn new(switch: Switch) -> Daemon {
        Daemon {
            switch: Arc::new(Mutex::new(switch)),
            shutdown: Arc::new(Notify::new()),
            cleanup: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
            idl_cells: Arc::new(AtomicUsize::new(0)),
            datapaths: Datapaths::new(),
        }
    }

    /// Like [`Daemon::new`] with the datapaths the switch's bridges use.
    pub fn with_datapaths(switch: Switch, datapaths: Arc<Datapaths>) -> Daemon {
        let mut d = Daemon::new(switch);
        d.datapaths = datapaths;
        d
    }

    /// Locks the switch (a poisoned lock is still usable: every update
    /// leaves it consistent).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Switch> {
        self.switch.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// vlog reports `processing "SPEC": WHY` (the command-line form); appctl
/// answers only WHY.
fn strip_processing(e: String) -> String {
    match e.split_once("\": ") {
        Some((head, why)) if head.starts_with("processing \"") => why.to_string(),
        _ => e,
    }
}

/// Registers the logging commands.
pub fn register_vlog(c: &Commands) {
    c.register("vlog/list", "", 0, 0, |_| Ok(vlog::list()));
    c.register("vlog/list-pattern", "", 0, 0, |_| Ok(vlog::list_patterns()));
    c.register(
        "vlog/set",
        "{spec | PATTERN:destination:pattern}",
        0,
        usize::MAX,
        |a| {
            if a.is_empty() {
                vlog::set_levels_from_string("").map_err(strip_processing)?;
            }
            for spec in a {
                vlog::set_levels_from_string(spec).map_err(strip_processing)?;
            }
            Ok(String::new())
        },
    );
    c.register("vlog/reopen", "", 0, 0, |_| {
        vlog::reopen_log_file().map(|_| String::new())
    });
}

/// The text of `memory/show`.
pub fn memory_text(d: &Daemon) -> String {
    let sw = d.lock();
    let ports: usize = sw.bridges.values().map(|b| b.ifaces.len()).sum();
    let cells = d.idl_cells.load(Ordering::Relaxed);
    let mut parts = Vec::new();
    if cells > 0 {
        parts.push(format!("idl-cells-Open_vSwitch:{cells}"));
    }
    if !sw.bridges.is_empty() {
        parts.push(format!("ports:{ports}"));
        let rules: usize = sw
            .bridges
            .values()
            .map(|b| {
                let o = b.shared.ofproto.lock().unwrap_or_else(|e| e.into_inner());
                (0..=u8::MAX).map(|t| o.rules(t).len()).sum::<usize>() + HIDDEN_RULES.len()
            })
            .sum();
        parts.push(format!("rules:{rules}"));
    }
    drop(sw);
    // Upstream's revalidators keep one key per datapath flow.
    let keys: u64 = d
        .datapaths
        .all()
        .iter()
        .map(|dp| datapath::Dpif::stats(dp.as_ref()).n_flows)
        .sum();
    if keys > 0 {
        parts.push(format!("udpif keys:{keys}"));
    }
    parts.join(" ")
}

/// The rules upstream keeps in its hidden table 254 of every bridge
/// (priority, match, actions): recirculation without a recirculation ID
/// and the three ways a translation can end in the internal table. Our
/// translation implements them directly; `bridge/dump-flows` and
/// `memory/show` report them as upstream does.
const HIDDEN_RULES: [(u16, &str, &str); 4] = [
    (2, "recirc_id=0", "drop"),
    (0, "reg0=0x1", "controller(reason=)"),
    (0, "reg0=0x2", "drop"),
    (0, "reg0=0x3", "drop"),
];

/// `bridge/dump-flows [--offload-stats] BRIDGE`: every rule of every
/// table, hidden ones included.
fn bridge_dump_flows(br: &crate::bridge::Bridge, offload_stats: bool) -> String {
    let o = br.shared.ofproto.lock().unwrap_or_else(|e| e.into_inner());
    let now = o.now();
    let mut out = String::new();
    let mut line = |table: u8, created: u64, packets: u64, bytes: u64, rest: &str| {
        if table != 0 {
            out.push_str(&format!("table_id={table}, "));
        }
        out.push_str(&format!(
            "duration={}s, n_packets={packets}, n_bytes={bytes}, ",
            now.saturating_sub(created) / 1000
        ));
        if offload_stats {
            out.push_str("n_offload_packets=0, n_offload_bytes=0, ");
        }
        out.push_str(rest);
        out.push('\n');
    };
    // Table 0's hidden rules (in-band, fail-open) rank above its
    // OpenFlow rules.
    for (priority, r) in o.hidden_rules() {
        let (packets, bytes) = r.counters();
        let rest = format!(
            "{},actions={}",
            r.match_.format(priority as i32),
            flow::actions::format_actions(&r.actions)
        );
        line(0, r.created, packets, bytes, &rest);
    }
    for t in 0..ofproto::table::TABLE_INTERNAL {
        for r in o.rules(t) {
            let (packets, bytes) = r.counters();
            let rest = format!(
                "{},actions={}",
                r.match_.format(i32::from(r.priority)),
                flow::actions::format_actions(&r.actions)
            );
            line(t, r.created, packets, bytes, &rest);
        }
    }
    for (priority, m, actions) in HIDDEN_RULES {
        let rest = format!("priority={priority},{m},actions={actions}");
        line(ofproto::table::TABLE_INTERNAL, br.created, 0, 0, &rest);
    }
    out
}

/// The port column of `fdb/show`: the OpenFlow port number (`LOCAL` for
/// the bridge's own port).
fn fdb_port_name(p: u32) -> String {
    if p == 0xfffe {
        "LOCAL".to_string()
    } else {
        p.to_string()
    }
}

fn now_secs(br: &crate::bridge::Bridge) -> u64 {
    br.shared
        .ofproto
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .now()
        / 1000
}

/// Registers the bridge commands: `fdb/*`, `mdb/show`, `bridge/dump-flows`.
pub fn register_bridge(c: &Commands, d: &Daemon) {
    const NO_BRIDGE: &str = "no such bridge";
    /// Runs `f` on the MAC table of the bridge named, or of every bridge.
    fn each_mac_table(
        sw: &Switch,
        name: Option<&String>,
        f: impl Fn(&ofproto::mac_learning::MacLearning),
    ) -> Result<(), String> {
        match name {
            Some(n) => f(&sw.bridges.get(n).ok_or(NO_BRIDGE)?.shared.mac_learning),
            None => sw.bridges.values().for_each(|b| f(&b.shared.mac_learning)),
        }
        Ok(())
    }
    let dd = d.clone();
    c.register("fdb/show", "bridge", 1, 1, move |a| {
        let sw = dd.lock();
        let br = sw.bridges.get(&a[0]).ok_or(NO_BRIDGE)?;
        Ok(br
            .shared
            .mac_learning
            .fdb_show(now_secs(br), &fdb_port_name))
    });
    let dd = d.clone();
    c.register("fdb/flush", "[bridge]", 0, 1, move |a| {
        each_mac_table(&dd.lock(), a.first(), |ml| ml.flush())?;
        Ok("table successfully flushed\n".into())
    });
    let dd = d.clone();
    c.register("fdb/stats-show", "bridge", 1, 1, move |a| {
        let sw = dd.lock();
        let br = sw.bridges.get(&a[0]).ok_or(NO_BRIDGE)?;
        Ok(br.shared.mac_learning.stats_show(&a[0], now_secs(br)))
    });
    let dd = d.clone();
    c.register("fdb/stats-clear", "[bridge]", 0, 1, move |a| {
        each_mac_table(&dd.lock(), a.first(), |ml| ml.stats_clear())?;
        Ok("statistics successfully cleared\n".into())
    });
    let dd = d.clone();
    c.register("mdb/show", "bridge", 1, 1, move |a| {
        let sw = dd.lock();
        let br = sw.bridges.get(&a[0]).ok_or(NO_BRIDGE)?;
        if !br.cfg.mcast_snooping_enable {
            return Err("multicast snooping is disabled".into());
        }
        // Multicast snooping learns no groups here (not implemented):
        // the table is always empty.
        Ok(" port  VLAN  GROUP                Age\n".into())
    });
    let dd = d.clone();
    c.register(
        "bridge/dump-flows",
        "[--offload-stats] bridge",
        1,
        2,
        move |a| {
            // The bridge is the last argument; only an exact
            // `--offload-stats` before it adds the offload counters.
            let offload = a.len() == 2 && a[0] == "--offload-stats";
            let name = &a[a.len() - 1];
            let sw = dd.lock();
            let br = sw.bridges.get(name).ok_or("Unknown bridge")?;
            Ok(bridge_dump_flows(br, offload))
        },
    );
}

/// The `dpctl/*` commands ovs-vswitchd offers, with upstream's usage.
const DPCTL: &[(&str, &str, usize, usize)] = &[
    ("add-flow", "[dp] flow actions", 1, 4),
    ("del-flow", "[dp] flow", 1, 3),
    ("del-flows", "[dp] [file]", 0, 2),
    (
        "dump-flows",
        "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]",
        0,
        6,
    ),
    ("get-flow", "[dp] ufid", 1, 3),
    ("mod-flow", "[dp] flow actions", 2, 4),
    ("show", "[-s] [dp...]", 0, usize::MAX),
];

/// Registers the datapath commands (`dpctl/*`, `dpif/*`, `netdev-dummy/*`).
pub fn register_datapath(c: &Commands, d: &Daemon) {
    for (name, usage, min, max) in DPCTL {
        let dd = d.clone();
        let cmd = name.to_string();
        c.register(&format!("dpctl/{name}"), usage, *min, *max, move |a| {
            let dps = dd.datapaths.all();
            let refs: Vec<&datapath::DpifNetdev> = dps.iter().map(|d| d.as_ref()).collect();
            let args: Vec<&str> = a.iter().map(String::as_str).collect();
            datapath::dpctl::run(&refs, "ovs-vswitchd", &cmd, &args)
        });
    }
    let dd = d.clone();
    c.register("dpctl/dump-dps", "", 0, 0, move |_| {
        Ok(dd
            .datapaths
            .all()
            .iter()
            .map(|dp| format!("{}\n", dp.full_name()))
            .collect())
    });
    let dd = d.clone();
    c.register("dpif/dump-dps", "", 0, 0, move |_| {
        let sw = dd.lock();
        Ok(sw
            .bridges
            .values()
            .map(|b| format!("{}@{}\n", b.datapath_type, b.name))
            .collect())
    });
    let dd = d.clone();
    c.register("dpif/show", "", 0, 0, move |_| Ok(dpif_show_text(&dd)));
    let dd = d.clone();
    c.register(
        "netdev-dummy/receive",
        "name [--qid queue_id] packet|flow [--len packet_len]",
        2,
        usize::MAX,
        move |a| {
            let sw = dd.lock();
            let found = sw
                .bridges
                .values()
                .find_map(|b| Some((b.backend.dummy(&a[0])?, b.backend.datapath())));
            let Some((dummy, dp)) = found else {
                return Err("no such dummy netdev".into());
            };
            drop(sw);
            let mut i = 1;
            while i < a.len() {
                match a[i].as_str() {
                    "--qid" | "--len" => i += 2,
                    text => {
                        let frame = datapath::packet_text::frame_from_text(text, None)?;
                        dummy.receive(&frame);
                        i += 1;
                    }
                }
            }
            // The next command sees what the frames did.
            if let Some(dp) = dp {
                dp.settle(std::time::Duration::from_secs(2), || dummy.pending());
            }
            Ok(String::new())
        },
    );
    let dd = d.clone();
    c.register(
        "netdev-dummy/set-admin-state",
        "[netdev] up|down",
        1,
        2,
        move |a| {
            let state = a[a.len() - 1].as_str();
            let up = match state {
                "up" => true,
                "down" => false,
                _ => return Err("Invalid Admin State".into()),
            };
            let mut sw = dd.lock();
            let mut found = false;
            for br in sw.bridges.values_mut() {
                let names: Vec<String> = br.ifaces.keys().cloned().collect();
                for n in names {
                    if a.len() == 2 && a[0] != n {
                        continue;
                    }
                    if br.backend.dummy(&n).is_some() && br.backend.set_admin_up(&n, up) {
                        found = true;
                    }
                }
                br.sync_ofports(&[]);
            }
            drop(sw);
            if a.len() == 2 && !found {
                return Err("Unknown Dummy Interface".into());
            }
            dd.wake.notify_one();
            Ok("OK".into())
        },
    );
}

/// Registers `ofproto/trace` and `ofproto/trace-packet-out`.
pub fn register_trace(c: &Commands, d: &Daemon) {
    type TraceFn =
        fn(&[String], &dyn ofproto::trace::TraceEnv) -> Result<ofproto::trace::TraceReply, String>;
    let cmds: [(&str, &str, TraceFn); 2] = [
        (
            "ofproto/trace",
            "{[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet]",
            ofproto::trace::trace_command,
        ),
        (
            "ofproto/trace-packet-out",
            "[-consistent] {[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet] actions",
            ofproto::trace::trace_packet_out_command,
        ),
    ];
    for (name, usage, f) in cmds {
        let dd = d.clone();
        c.register(name, usage, 1, usize::MAX, move |a| {
            let registry = dd.lock().registry.clone();
            let reg = registry.read().unwrap_or_else(|e| e.into_inner());
            let mut locked = crate::upcall::LockedBridges::lock(&reg);
            let reply = f(a, &locked)?;
            let pending = crate::upcall::apply_side_effects(&mut locked, reply.side_effects);
            drop(locked);
            for e in reg.bridges.values() {
                e.shared.with_ofproto(|_| ());
            }
            drop(reg);
            // Native tunnelling's neighbour requests go out even from a
            // trace, as upstream's do.
            crate::upcall::send_pending_via(&registry, &dd.datapaths.all(), pending);
            Ok(reply.text)
        });
    }
}

/// Registers the `fdb/*` commands: the MAC learning table of each bridge
/// (filled by the NORMAL action), as upstream prints it.
pub fn register_fdb(c: &Commands, d: &Daemon) {
    fn bridge(d: &Daemon, name: &str) -> Option<crate::upcall::BridgeEntry> {
        let registry = d.lock().registry.clone();
        let reg = registry.read().unwrap_or_else(|e| e.into_inner());
        reg.bridges.get(name).cloned()
    }
    fn all(d: &Daemon) -> Vec<crate::upcall::BridgeEntry> {
        let registry = d.lock().registry.clone();
        let reg = registry.read().unwrap_or_else(|e| e.into_inner());
        reg.bridges.values().cloned().collect()
    }
    let dd = d.clone();
    c.register("fdb/show", "bridge", 1, 1, move |a| {
        let e = bridge(&dd, &a[0]).ok_or("no such bridge")?;
        let now = e.shared.with_ofproto_quiet(|o| o.now() / 1000);
        let name = |p: u32| flow::port::format_port(p, None);
        Ok(e.shared.mac_learning.fdb_show(now, &name))
    });
    let dd = d.clone();
    c.register("fdb/flush", "[bridge]", 0, 1, move |a| {
        let list = match a.first() {
            Some(n) => vec![bridge(&dd, n).ok_or("no such bridge")?],
            None => all(&dd),
        };
        for e in list {
            e.shared.mac_learning.flush();
        }
        Ok("table successfully flushed".into())
    });
    let dd = d.clone();
    c.register("fdb/stats-show", "bridge", 1, 1, move |a| {
        let e = bridge(&dd, &a[0]).ok_or("no such bridge")?;
        let now = e.shared.with_ofproto_quiet(|o| o.now() / 1000);
        Ok(e.shared.mac_learning.stats_show(&a[0], now))
    });
    let dd = d.clone();
    c.register("fdb/stats-clear", "[bridge]", 0, 1, move |a| {
        let list = match a.first() {
            Some(n) => vec![bridge(&dd, n).ok_or("no such bridge")?],
            None => all(&dd),
        };
        for e in list {
            e.shared.mac_learning.stats_clear();
        }
        Ok("statistics successfully cleared".into())
    });
}

/// The text of `dpif/show`.
pub fn dpif_show_text(d: &Daemon) -> String {
    let sw = d.lock();
    let mut out = String::new();
    for dp in d.datapaths.all() {
        let ports = datapath::Dpif::ports(dp.as_ref());
        let mut bridges = Vec::new();
        for br in sw.bridges.values() {
            if !br.backend.datapath().is_some_and(|b| Arc::ptr_eq(&b, &dp)) {
                continue;
            }
            let list = br
                .ifaces
                .values()
                .map(|i| {
                    // Patch ports and tunnels show their own type and
                    // configuration; other devices the datapath port's.
                    let (type_name, config) = br.show_config(i).unwrap_or_else(|| {
                        let p = ports.iter().find(|p| p.port_no == i.odp_port);
                        (
                            p.map(|p| p.type_name.clone()).unwrap_or_default(),
                            p.map(|p| p.config.clone()).unwrap_or_default(),
                        )
                    });
                    (i.name.clone(), i.ofp_port, i.odp_port, type_name, config)
                })
                .collect();
            bridges.push((br.name.clone(), list));
        }
        let stats = datapath::Dpif::stats(dp.as_ref());
        out.push_str(&datapath::show::dpif_show(dp.as_ref(), &stats, &bridges));
    }
    out
}

/// Registers `time/stop` and `time/warp` (upstream has them with
/// `--enable-dummy`): they freeze and move the daemon's clock, after which
/// every bridge's timeouts run at once.
pub fn register_time(c: &Commands, d: &Daemon) {
    c.register("time/stop", "", 0, 0, |_| {
        crate::clock::global().stop();
        Ok(String::new())
    });
    let dd = d.clone();
    c.register_async("time/warp", "[large_msecs] msecs", 1, 2, move |args| {
        let dd = dd.clone();
        async move {
            let tick = || {
                let bridges: Vec<_> = dd
                    .lock()
                    .bridges
                    .values()
                    .map(|b| b.shared.clone())
                    .collect();
                for b in bridges {
                    b.run_timeouts();
                }
            };
            crate::clock::warp(crate::clock::global(), &args, tick).await
        }
    });
}

/// Registers every command of the daemon.
pub fn register(c: &Commands, d: &Daemon) {
    register_vlog(c);
    register_datapath(c, d);
    register_trace(c, d);
    register_bridge(c, d);
    crate::revalidator::register(c, &d.datapaths);
    register_fdb(c, d);
    crate::native_tnl::register(c, d);
    if d.lock().opts.dummy != crate::bridge::DummyMode::Off {
        register_time(c, d);
    }
    let (sd, cl) = (d.shutdown.clone(), d.cleanup.clone());
    c.register_then(
        "exit",
        "[--cleanup]",
        0,
        1,
        move |a| {
            // As upstream: only an exact `--cleanup` asks for cleanup; any
            // other argument is an ordinary exit.
            cl.store(
                a.first().map(String::as_str) == Some("--cleanup"),
                Ordering::Relaxed,
            );
            Ok(String::new())
        },
        move || sd.notify_one(),
    );
    let dd = d.clone();
    c.register("memory/show", "", 0, 0, move |_| Ok(memory_text(&dd)));
    let dd = d.clone();
    c.register("ofproto/list", "", 0, 0, move |_| {
        Ok(dd.lock().bridges.keys().map(|n| format!("{n}\n")).collect())
    });
    let dd = d.clone();
    c.register("bridge/reconnect", "[bridge]", 0, 1, move |a| {
        let sw = dd.lock();
        if let Some(name) = a.first() {
            if !sw.bridges.contains_key(name) {
                return Err("Unknown bridge".into());
            }
        }
        drop(sw);
        let mut sw = dd.lock();
        for (name, br) in sw.bridges.iter_mut() {
            if a.first().is_none_or(|n| n == name) {
                if let Some(cm) = br.connmgr.as_mut() {
                    cm.reconnect();
                }
            }
        }
        Ok(String::new())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::{DatapathOptions, DummyMode};

    fn daemon() -> Daemon {
        Daemon::new(Switch::new(DatapathOptions {
            dummy: DummyMode::On,
            disable_system: true,
        }))
    }

    #[tokio::test]
    async fn exit_cleanup_only_with_the_exact_option() {
        let d = daemon();
        let c = Commands::new();
        register(&c, &d);
        assert_eq!(
            c.execute("exit", &[serde_json::json!("--bogus")]).await,
            Ok(String::new())
        );
        assert!(!d.cleanup.load(Ordering::Relaxed));
        assert_eq!(
            c.execute("exit", &[serde_json::json!("--cleanup")]).await,
            Ok(String::new())
        );
        assert!(d.cleanup.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn bridge_commands_name_unknown_bridges() {
        let d = daemon();
        let c = Commands::new();
        register(&c, &d);
        assert_eq!(
            c.execute("bridge/reconnect", &[serde_json::json!("nobr")])
                .await,
            Err("Unknown bridge".into())
        );
        assert_eq!(c.execute("ofproto/list", &[]).await, Ok(String::new()));
    }
}

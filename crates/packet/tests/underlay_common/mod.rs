//! The underlay that the tunnel tests build on the reference switch, as
//! upstream's tunnel-push-pop tests do: bridge `br0` (its address
//! aa:55:aa:55:00:00) with dummy port `p0` (OpenFlow port 1), the local
//! addresses 1.1.2.88/24 and 2001:cafe::88/24, routes towards the remote
//! tunnel ends 1.1.2.92 and 2001:cafe::92 with their neighbour entries
//! (f8:bc:12:44:34:b6), and NORMAL forwarding.

use testkit::Sandbox;

/// Adds the underlay; `p0_columns` are more Interface settings for `p0`
/// (`options:tx_pcap=…`).
pub fn add_underlay(sb: &Sandbox, p0_columns: &[&str]) {
    let hwaddr = "other-config:hwaddr=aa:55:aa:55:00:00";
    let mut args = testkit::dummy_bridge("br0", &[hwaddr], &[]);
    let mut columns = vec![hwaddr];
    columns.extend_from_slice(p0_columns);
    args.extend(testkit::dummy_port("br0", "p0", 1, &columns));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.vsctl(&args).unwrap();
    for cmd in [
        &["netdev-dummy/ip4addr", "br0", "1.1.2.88/24"][..],
        &["netdev-dummy/ip6addr", "br0", "2001:cafe::88/24"],
        &["ovs/route/add", "1.1.2.92/24", "br0"],
        &["ovs/route/add", "2001:cafe::92/24", "br0"],
        &["tnl/arp/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6"],
        &["tnl/neigh/set", "br0", "2001:cafe::92", "f8:bc:12:44:34:b6"],
    ] {
        sb.appctl(cmd).unwrap();
    }
    sb.ofctl("br0", &["add-flow", "action=normal"]).unwrap();
}

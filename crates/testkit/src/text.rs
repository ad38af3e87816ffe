//! Text helpers for comparing the outputs of two switches: ids that are
//! global counters renumbered in order of first appearance, port addresses
//! no two runs share, and datapath action lists split and sorted where
//! upstream's order is a hash map's.

/// Renumbers the ids that follow `recirc(`, `recirc_id=`, `recirc_id(`
/// or `recirc_id ` (hex or decimal) as `R0`, `R1`, … in order of first
/// appearance; id 0 (no recirculation) stays. Recirculation ids are global
/// counters in both switches, so only their pattern can be compared.
pub fn normalize_recirc(s: &str) -> String {
    let mut ids: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut rest = s;
    let pats = ["recirc(", "recirc_id=", "recirc_id(", "recirc_id "];
    loop {
        let next = pats
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
            .min();
        let Some((i, n)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i + n]);
        rest = &rest[i + n..];
        let len = rest
            .find(|c: char| !(c.is_ascii_hexdigit() || c == 'x'))
            .unwrap_or(rest.len());
        let id = &rest[..len];
        if id.is_empty() || id == "0" {
            out.push_str(id);
        } else {
            let k = match ids.iter().position(|x| x == id) {
                Some(k) => k,
                None => {
                    ids.push(id.to_string());
                    ids.len() - 1
                }
            };
            out.push_str(&format!("R{k}"));
        }
        rest = &rest[len..];
    }
    out
}

/// The comma-separated items of `s` that are not inside parentheses
/// (`a(b,c),d` gives `a(b,c)` and `d`).
pub fn split_top(s: &str) -> Vec<&str> {
    let mut v = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                v.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    v.push(&s[start..]);
    v
}

/// A datapath action list with each run of plain port numbers (outputs)
/// sorted: upstream floods ports in the order of a hash map, so flooded
/// outputs compare as a set. Other actions stay where they are.
pub fn sort_port_runs(acts: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<u32> = Vec::new();
    for a in split_top(acts) {
        match a.parse::<u32>() {
            Ok(n) => run.push(n),
            Err(_) => {
                run.sort_unstable();
                out.extend(run.drain(..).map(|n| n.to_string()));
                out.push(a.to_string());
            }
        }
    }
    run.sort_unstable();
    out.extend(run.drain(..).map(|n| n.to_string()));
    out.join(",")
}

/// Port addresses in `ovs-ofctl show`-style listings that no two runs
/// share: random ones (patch and tunnel devices, and a bridge's own,
/// derived from its row UUID, as is then its datapath ID) become
/// `<random>`, and dummy devices' `aa:55:aa:55:xx:yy` (numbered across
/// the process, from an offset that depends on the host) are renumbered
/// in order of appearance.
pub fn normalize_port_addrs(s: &str) -> String {
    let is_mac = |t: &str| {
        t.len() == 17
            && t.split(':')
                .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let mut dummies: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for l in s.split('\n') {
        let mut l = l.to_string();
        if let Some(p) = l.find("): addr:") {
            let start = p + "): addr:".len();
            if let Some(mac) = l
                .get(start..start + 17)
                .filter(|m| is_mac(m))
                .map(str::to_string)
            {
                let repl = if let Some(tail) = mac.strip_prefix("aa:55:aa:55:") {
                    let n = match dummies.iter().position(|d| d == tail) {
                        Some(n) => n,
                        None => {
                            dummies.push(tail.to_string());
                            dummies.len() - 1
                        }
                    };
                    format!("aa:55:aa:55:<{n}>")
                } else if u8::from_str_radix(&mac[..2], 16).is_ok_and(|b| b & 2 != 0) {
                    "<random>".to_string()
                } else {
                    mac
                };
                l.replace_range(start..start + 17, &repl);
            }
        }
        if let Some(p) = l.find(": dpid:") {
            let start = p + ": dpid:".len();
            let local = l
                .get(start..start + 16)
                .filter(|d| d.len() == 16 && d.chars().all(|c| c.is_ascii_hexdigit()))
                .filter(|d| d.starts_with("0000"))
                .and_then(|d| u8::from_str_radix(&d[4..6], 16).ok())
                .is_some_and(|b| b & 2 != 0);
            if local {
                l.replace_range(start..start + 16, "<random>");
            }
        }
        lines.push(l);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recirculation_ids_are_numbered_by_first_appearance() {
        assert_eq!(
            normalize_recirc("recirc(0x5),recirc_id=0x7 recirc_id(0x5) recirc_id 12 recirc_id=0"),
            "recirc(R0),recirc_id=R1 recirc_id(R0) recirc_id R2 recirc_id=0"
        );
    }

    #[test]
    fn port_runs_are_sorted_between_other_actions() {
        assert_eq!(
            sort_port_runs("3,1,push_vlan(vid=1,pcp=0),5,2,pop_vlan,9"),
            "1,3,push_vlan(vid=1,pcp=0),2,5,pop_vlan,9"
        );
        assert_eq!(split_top("a(b,c),d"), ["a(b,c)", "d"]);
    }

    #[test]
    fn port_addresses_and_local_dpids_are_normalized() {
        assert_eq!(
            normalize_port_addrs(
                " 1(p): addr:aa:55:aa:55:00:13\n 2(q): addr:f2:3e:12:f5:56:95\n 3(r): addr:aa:55:aa:55:00:13\n LOCAL(br0): addr:00:00:00:00:00:02"
            ),
            " 1(p): addr:aa:55:aa:55:<0>\n 2(q): addr:<random>\n 3(r): addr:aa:55:aa:55:<0>\n LOCAL(br0): addr:00:00:00:00:00:02"
        );
        assert_eq!(
            normalize_port_addrs(
                "OFPT_FEATURES_REPLY (xid=0x2): dpid:00002a3e12f55695\nx: dpid:0000000000000002"
            ),
            "OFPT_FEATURES_REPLY (xid=0x2): dpid:<random>\nx: dpid:0000000000000002"
        );
    }
}

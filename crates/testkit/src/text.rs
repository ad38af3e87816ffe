//! Text helpers for comparing the outputs of two switches: ids that are
//! global counters renumbered in order of first appearance, and datapath
//! action lists split and sorted where upstream's order is a hash map's.

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
}

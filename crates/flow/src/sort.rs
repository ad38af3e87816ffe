//! Ordering flows for `ovs-ofctl --sort` / `--rsort`: by priority or by
//! the value of a field, flows that do not match on the field last (the
//! counterpart of ovs-ofctl's sort criteria and compare_flows).

use crate::field::FieldId;
use crate::matches::Match;
use std::cmp::Ordering;

/// Ascending (`--sort`) or descending (`--rsort`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// One sort key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortCriterion {
    /// `None` sorts by priority.
    pub field: Option<FieldId>,
    pub order: SortOrder,
}

impl SortCriterion {
    /// The criterion of `--sort[=FIELD]` / `--rsort[=FIELD]`: no field or
    /// `priority` (any case) sorts by priority; otherwise a field name or
    /// alias, or the error "FIELD: unknown field name".
    pub fn parse(field: Option<&str>, order: SortOrder) -> Result<SortCriterion, String> {
        let field = match field {
            None => None,
            Some(f) if f.eq_ignore_ascii_case("priority") => None,
            Some(f) => Some(
                FieldId::from_field_name(f).ok_or_else(|| format!("{f}: unknown field name"))?,
            ),
        };
        Ok(SortCriterion { field, order })
    }
}

/// Whether the flow constrains `field` meaningfully: its prerequisites
/// hold and it is not wildcarded.
fn has_field(m: &Match, field: FieldId) -> bool {
    field.prereqs_ok(&m.flow, None) && !m.is_field_wild(field)
}

/// Compares two flows (match and priority) under `criteria`, first
/// criterion first.  Flows lacking a sort field come after those that
/// have it, in either order.
pub fn compare_flows(a: (&Match, u16), b: (&Match, u16), criteria: &[SortCriterion]) -> Ordering {
    for sc in criteria {
        let ord = match sc.field {
            None => a.1.cmp(&b.1),
            Some(f) => {
                let (ina, inb) = (has_field(a.0, f), has_field(b.0, f));
                if ina != inb {
                    return if ina {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                }
                f.get(&a.0.flow).as_bytes().cmp(f.get(&b.0.flow).as_bytes())
            }
        };
        if ord != Ordering::Equal {
            return match sc.order {
                SortOrder::Ascending => ord,
                SortOrder::Descending => ord.reverse(),
            };
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_str::{parse_ofp_str, FlowModCommand, FlowStrKind};

    fn flow(s: &str) -> (Match, u16) {
        let fm = parse_ofp_str(
            &format!("{s},actions=drop"),
            FlowStrKind::FlowMod(FlowModCommand::Add),
            None,
        )
        .unwrap();
        (fm.match_, fm.priority)
    }

    #[test]
    fn criteria() {
        assert_eq!(
            SortCriterion::parse(Some("foo"), SortOrder::Ascending).unwrap_err(),
            "foo: unknown field name"
        );
        assert_eq!(
            SortCriterion::parse(Some("PRIORITY"), SortOrder::Descending)
                .unwrap()
                .field,
            None
        );
        assert_eq!(
            SortCriterion::parse(Some("nw_src"), SortOrder::Ascending)
                .unwrap()
                .field,
            Some(FieldId::Ipv4Src)
        );
    }

    #[test]
    fn ordering() {
        let mut flows = [
            flow("priority=5"),
            flow("ip,nw_src=10.0.0.2"),
            flow("ip,nw_src=10.0.0.1,priority=7"),
        ];
        let by_src = [SortCriterion::parse(Some("nw_src"), SortOrder::Ascending).unwrap()];
        flows.sort_by(|a, b| compare_flows((&a.0, a.1), (&b.0, b.1), &by_src));
        let shown: Vec<String> = flows.iter().map(|(m, p)| m.format(*p as i32)).collect();
        assert_eq!(
            shown,
            [
                "priority=7,ip,nw_src=10.0.0.1",
                "ip,nw_src=10.0.0.2",
                "priority=5"
            ]
        );
        let by_src_desc = [SortCriterion::parse(Some("nw_src"), SortOrder::Descending).unwrap()];
        flows.sort_by(|a, b| compare_flows((&a.0, a.1), (&b.0, b.1), &by_src_desc));
        let shown: Vec<String> = flows.iter().map(|(m, p)| m.format(*p as i32)).collect();
        assert_eq!(
            shown,
            [
                "ip,nw_src=10.0.0.2",
                "priority=7,ip,nw_src=10.0.0.1",
                "priority=5"
            ]
        );
        let by_pri = [SortCriterion::parse(None, SortOrder::Descending).unwrap()];
        flows.sort_by(|a, b| compare_flows((&a.0, a.1), (&b.0, b.1), &by_pri));
        assert_eq!(flows.iter().map(|f| f.1).collect::<Vec<_>>(), [32768, 7, 5]);
    }
}

//! Checks that depend on where the actions are used (OVS's `ofpacts_check`):
//! the table a `goto_table` may go to, output ports, and later the
//! consistency of actions with a flow's match.

use super::error::OfpErr;
use super::model::OfpAction;

/// Checks `goto_table` against the table the flow is in (`table_id`), as
/// upstream's consistency check does with 255 tables.
pub fn check_instructions_table(acts: &[OfpAction], table_id: u32) -> Result<(), OfpErr> {
    for a in acts {
        if let OfpAction::GotoTable(t) = a {
            if u32::from(*t) <= table_id || *t == 255 {
                return Err(OfpErr::OfpbicBadTableId);
            }
        }
    }
    Ok(())
}

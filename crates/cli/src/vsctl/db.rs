//! The generic database commands (`list`, `find`, `get`, `set`, `add`,
//! `remove`, `clear`, `create`, `destroy`, `wait-until`, `comment`): table
//! names by unique prefix, records by UUID (or a unique prefix of at least
//! four digits) or by the name rules of each table, columns by unique
//! prefix, and conditions with the relational and set operators.

use super::ctx::{fatal, CmdResult, Ctx, Fail, Post};
use super::text::{self, atom_from_string, datum_from_string, parse_column_arg};
use crate::db_format::{Cell, Table};
use ovsdb::datum::{Atom, Datum};
use ovsdb::schema::{ColumnSchema, TableSchema};
use ovsdb::types::{AtomicType, Type};
use ovsdb::Uuid;
use std::cmp::Ordering;

/// How records of a table may be named, besides by UUID.
pub struct RowId {
    /// The table searched (the target table itself, or a referrer).
    pub table: &'static str,
    /// The column matched against the record name (`None`: the table's
    /// only row, named ".").
    pub name_column: Option<&'static str>,
    /// The referrer's column holding the target row.
    pub uuid_column: Option<&'static str>,
}

const fn by_name(table: &'static str, col: &'static str) -> RowId {
    RowId {
        table,
        name_column: Some(col),
        uuid_column: None,
    }
}

const fn via(table: &'static str, col: &'static str, uuid_col: &'static str) -> RowId {
    RowId {
        table,
        name_column: Some(col),
        uuid_column: Some(uuid_col),
    }
}

/// The naming rules of the Open_vSwitch schema's tables.
pub fn row_ids(table: &str) -> &'static [RowId] {
    const OVS: [RowId; 1] = [RowId {
        table: "Open_vSwitch",
        name_column: None,
        uuid_column: None,
    }];
    const SSL: [RowId; 1] = [RowId {
        table: "Open_vSwitch",
        name_column: None,
        uuid_column: Some("ssl"),
    }];
    const BRIDGE: [RowId; 1] = [by_name("Bridge", "name")];
    const PORT: [RowId; 1] = [by_name("Port", "name")];
    const IFACE: [RowId; 1] = [by_name("Interface", "name")];
    const CONTROLLER: [RowId; 1] = [via("Bridge", "name", "controller")];
    const MANAGER: [RowId; 1] = [by_name("Manager", "target")];
    const MIRROR: [RowId; 1] = [by_name("Mirror", "name")];
    const NETFLOW: [RowId; 1] = [via("Bridge", "name", "netflow")];
    const QOS: [RowId; 1] = [via("Port", "name", "qos")];
    const SFLOW: [RowId; 1] = [via("Bridge", "name", "sflow")];
    const IPFIX: [RowId; 1] = [via("Bridge", "name", "ipfix")];
    const AA: [RowId; 1] = [via("Bridge", "name", "auto_attach")];
    const FLOW_TABLE: [RowId; 1] = [by_name("Flow_Table", "name")];
    const FSCS: [RowId; 1] = [by_name("Flow_Sample_Collector_Set", "id")];
    match table {
        "Open_vSwitch" => &OVS,
        "SSL" => &SSL,
        "Bridge" => &BRIDGE,
        "Port" => &PORT,
        "Interface" => &IFACE,
        "Controller" => &CONTROLLER,
        "Manager" => &MANAGER,
        "Mirror" => &MIRROR,
        "NetFlow" => &NETFLOW,
        "QoS" => &QOS,
        "sFlow" => &SFLOW,
        "IPFIX" => &IPFIX,
        "AutoAttach" => &AA,
        "Flow_Table" => &FLOW_TABLE,
        "Flow_Sample_Collector_Set" => &FSCS,
        _ => &[],
    }
}

/// How well `s` (typed by the user) matches `name`: an exact match beats
/// a case-insensitive one (where `-` stands for `_`), which beats a prefix
/// (scored by its length); 0 is no match.
fn match_score(name: &str, s: &str) -> usize {
    if name == s {
        return usize::MAX;
    }
    let (n, t) = (name.as_bytes(), s.as_bytes());
    let mut i = 0;
    loop {
        match (n.get(i), t.get(i)) {
            (None, None) => return usize::MAX - 1,
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) || (*a == b'_' && *b == b'-') => i += 1,
            (_, None) => return i,
            _ => return 0,
        }
    }
}

/// The candidates with the best non-zero score (several means ambiguous).
fn best_matches<'a, T>(items: impl Iterator<Item = (&'a str, T)>, s: &str) -> Vec<T> {
    let mut best = 0;
    let mut out = Vec::new();
    for (name, item) in items {
        let score = match_score(name, s);
        if score == 0 || score < best {
            continue;
        }
        if score > best {
            best = score;
            out.clear();
        }
        out.push(item);
    }
    out
}

/// A table by name, case-insensitive name or unique prefix.
pub fn get_table<'a>(ctx: &'a Ctx, name: &str) -> Result<&'a TableSchema, Fail> {
    let schema = ctx.r.schema();
    let matches = best_matches(schema.tables.values().map(|t| (t.name.as_str(), t)), name);
    match matches.len() {
        1 => Ok(matches[0]),
        0 => fatal!("unknown table \"{name}\""),
        _ => fatal!("multiple table names match \"{name}\""),
    }
}

/// A column: `_uuid`, an exact name, or a unique prefix.
pub enum Column<'a> {
    Uuid,
    Data(&'a ColumnSchema),
}

impl Column<'_> {
    pub fn name(&self) -> &str {
        match self {
            Column::Uuid => "_uuid",
            Column::Data(c) => &c.name,
        }
    }

    pub fn ty(&self) -> Type {
        match self {
            Column::Uuid => Type::scalar(AtomicType::Uuid),
            Column::Data(c) => c.ty.clone(),
        }
    }
}

pub fn get_column<'a>(t: &'a TableSchema, name: &str) -> Result<Column<'a>, Fail> {
    if name == "_uuid" {
        return Ok(Column::Uuid);
    }
    let mut matches = best_matches(t.columns.iter().map(|c| (c.name.as_str(), c)), name);
    matches.sort_by(|a, b| a.name.cmp(&b.name));
    match matches.len() {
        1 => Ok(Column::Data(matches[0])),
        0 => fatal!(
            "{} does not contain a column whose name matches \"{name}\"",
            t.name
        ),
        _ => {
            let names: Vec<&str> = matches.iter().map(|c| c.name.as_str()).collect();
            fatal!(
                "{} contains more than one column whose name matches \"{name}\": {}",
                t.name,
                names.join(", ")
            )
        }
    }
}

fn column_value(ctx: &Ctx, table: &str, row: &Uuid, col: &Column) -> Datum {
    match col {
        Column::Uuid => Datum::from_atom(Atom::Uuid(*row)),
        Column::Data(c) => ctx.get(table, row, &c.name),
    }
}

/// Does the record name `id` match a row's name column?
fn name_matches(ctx: &Ctx, rid: &RowId, row: &Uuid, id: &str) -> bool {
    let Some(col) = rid.name_column else {
        return false;
    };
    let d = ctx.get(rid.table, row, col);
    let Some(first) = d.keys.first().filter(|_| d.keys.len() == 1) else {
        return false;
    };
    match first {
        Atom::String(s) => s == id,
        Atom::Integer(i) => id.parse::<i64>().ok() == Some(*i),
        other => other.to_text() == id,
    }
}

/// Finds a record of `table` named `id`.
pub fn get_row(ctx: &Ctx, table: &str, id: &str, must_exist: bool) -> Result<Option<Uuid>, Fail> {
    if let Some(u) = Uuid::parse(id) {
        if ctx.exists(table, &u) {
            return Ok(Some(u));
        }
    }
    let mut multiple = false;
    let mut found = None;
    for rid in row_ids(table) {
        let referrer = match rid.name_column {
            None => {
                let rows = ctx.rows(rid.table);
                if id != "." || rows.len() != 1 {
                    continue;
                }
                Some(rows[0])
            }
            Some(_) => {
                let mut hit = None;
                for r in ctx.rows(rid.table) {
                    if name_matches(ctx, rid, &r, id) {
                        if hit.is_some() {
                            multiple = true;
                            hit = None;
                            break;
                        }
                        hit = Some(r);
                    }
                }
                hit
            }
        };
        if multiple {
            break;
        }
        let Some(referrer) = referrer else {
            continue;
        };
        let row = match rid.uuid_column {
            Some(col) => {
                let refs = ctx.get_refs(rid.table, &referrer, col);
                match refs.as_slice() {
                    [one] if ctx.exists(table, one) => Some(*one),
                    _ => None,
                }
            }
            None => Some(referrer),
        };
        if row.is_some() {
            found = row;
            break;
        }
    }
    if found.is_none() && !multiple && id.len() >= 4 {
        let lid = id.to_ascii_lowercase();
        for r in ctx.rows(table) {
            if r.to_string().starts_with(&lid) {
                if found.is_some() {
                    multiple = true;
                    found = None;
                    break;
                }
                found = Some(r);
            }
        }
    }
    if found.is_none() && must_exist {
        if multiple {
            return fatal!("multiple rows in {table} match \"{id}\"");
        }
        return fatal!("no row \"{id}\" in table {table}");
    }
    Ok(found)
}

fn check_mutable(ctx: &Ctx, t: &TableSchema, row: &Uuid, col: &Column) -> CmdResult {
    let mutable = match col {
        Column::Uuid => false,
        Column::Data(c) => c.mutable || ctx.r.row(&t.name, row).is_none(),
    };
    if !mutable {
        return fatal!(
            "cannot modify read-only column {} in table {}",
            col.name(),
            t.name
        );
    }
    Ok(())
}

fn txn_err(e: ovsdb::Error) -> Fail {
    Fail::Fatal(text::constraint_text(&e))
}

/// Applies one `COLUMN[:KEY]=VALUE` argument to a row.
pub fn set_column(ctx: &mut Ctx, table: &str, row: &Uuid, arg: &str) -> CmdResult {
    let t = get_table(ctx, table)?.clone();
    let ca = parse_column_arg(arg, &["="]).map_err(Fail::Fatal)?;
    let col = get_column(&t, &ca.column)?;
    if let Some(e) = ca.op_error {
        return Err(Fail::Fatal(e));
    }
    check_mutable(ctx, &t, row, &col)?;
    let Column::Data(c) = col else {
        return Ok(());
    };
    let value = ca.op.map(|(_, v)| v).unwrap_or_default();
    match ca.key {
        Some(k) => {
            let Some(vt) = &c.ty.value else {
                return fatal!("cannot specify key to set for non-map column {}", c.name);
            };
            let key = atom_from_string(&c.ty.key, &k, Some(ctx.symtab)).map_err(Fail::Fatal)?;
            let val = atom_from_string(vt, &value, Some(ctx.symtab)).map_err(Fail::Fatal)?;
            ctx.txn
                .map_set(ctx.r, table, row, &c.name, key, val)
                .map_err(txn_err)
        }
        None => {
            let d = datum_from_string(&c.ty, &value, Some(ctx.symtab)).map_err(Fail::Fatal)?;
            ctx.txn.set(ctx.r, table, row, &c.name, d).map_err(txn_err)
        }
    }
}

/// A table of rows for `list`/`find`, with `--columns` or every column.
fn rows_table(ctx: &mut Ctx, t: &TableSchema, rows: &[Uuid]) -> Result<(), Fail> {
    let cols: Vec<Column> = match ctx.option("--columns") {
        Some(list) => {
            let mut v = Vec::new();
            for name in list.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
                if name.is_empty() {
                    continue;
                }
                v.push(get_column(t, name)?);
            }
            v
        }
        None => {
            let mut v = vec![Column::Uuid];
            let mut cs: Vec<&ColumnSchema> = t.columns.iter().collect();
            cs.sort_by(|a, b| a.name.cmp(&b.name));
            v.extend(cs.into_iter().map(Column::Data));
            v
        }
    };
    let mut table = Table::new();
    for c in &cols {
        table.add_column(c.name());
    }
    for row in rows {
        table.add_row();
        for c in &cols {
            let ty = c.ty();
            let d = column_value(ctx, &t.name, row, c);
            table.add_cell(Cell::json(d.to_json(&ty), Some(ty)));
        }
    }
    *ctx.table = Some(table);
    Ok(())
}

pub fn cmd_list(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let must = !ctx.has_option("--if-exists");
    let rows: Vec<Uuid> = if ctx.args.len() > 2 {
        let mut v = Vec::new();
        for id in &ctx.args[2..] {
            if let Some(r) = get_row(ctx, &t.name, id, must)? {
                v.push(r);
            }
        }
        v
    } else {
        ctx.rows(&t.name)
    };
    rows_table(ctx, &t, &rows)
}

const FIND_OPS: &[&str] = &[
    "=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}",
    "{not-in}",
];

/// Evaluates `have OP want`.
fn relop(have: &Datum, want: &Datum, op: &str) -> bool {
    let cmp = || {
        have.keys
            .len()
            .cmp(&want.keys.len())
            .then_with(|| have.cmp(want))
    };
    match op {
        "=" => have == want,
        "!=" => have != want,
        "<" => cmp() == Ordering::Less,
        ">" => cmp() == Ordering::Greater,
        "<=" => cmp() != Ordering::Greater,
        ">=" => cmp() != Ordering::Less,
        "{=}" => have == want,
        "{!=}" => have != want,
        "{<}" => want.includes(have) && have != want,
        "{>}" => have.includes(want) && have != want,
        "{<=}" => want.includes(have),
        "{>=}" => have.includes(want),
        "{in}" => want.includes(have),
        "{not-in}" => have.iter().all(|(k, _)| !want.contains_key(k)),
        _ => false,
    }
}

/// Is `arg` (`COLUMN[:KEY]OP VALUE`) true of the row?
fn condition_holds(ctx: &mut Ctx, t: &TableSchema, row: &Uuid, arg: &str) -> Result<bool, Fail> {
    let ca = parse_column_arg(arg, FIND_OPS).map_err(Fail::Fatal)?;
    let col = get_column(t, &ca.column)?;
    if let Some(e) = ca.op_error {
        return Err(Fail::Fatal(e));
    }
    let (op, value) = ca.op.unwrap_or_default();
    let ty = col.ty();
    let have = column_value(ctx, &t.name, row, &col);
    match ca.key {
        Some(k) => {
            let Some(vt) = &ty.value else {
                return fatal!(
                    "cannot specify key to check for non-map column {}",
                    col.name()
                );
            };
            let key = atom_from_string(&ty.key, &k, Some(ctx.symtab)).map_err(Fail::Fatal)?;
            let want_ty = Type {
                key: vt.clone(),
                value: None,
                n_min: 0,
                n_max: u32::MAX,
            };
            let want =
                datum_from_string(&want_ty, &value, Some(ctx.symtab)).map_err(Fail::Fatal)?;
            match have.get(&key) {
                Some(v) => Ok(relop(&Datum::from_atom(v.clone()), &want, &op)),
                None if op.starts_with('{') => Ok(relop(&Datum::empty(false), &want, &op)),
                None => Ok(false),
            }
        }
        None => {
            let want_ty = ty.clone();
            let want =
                datum_from_string(&want_ty, &value, Some(ctx.symtab)).map_err(Fail::Fatal)?;
            Ok(relop(&have, &want, &op))
        }
    }
}

pub fn cmd_find(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let conds: Vec<String> = ctx.args[2..].to_vec();
    let mut rows = Vec::new();
    for row in ctx.rows(&t.name) {
        let mut all = true;
        for c in &conds {
            if !condition_holds(ctx, &t, &row, c)? {
                all = false;
                break;
            }
        }
        if all {
            rows.push(row);
        }
    }
    rows_table(ctx, &t, &rows)
}

/// Declares `--id=@name` as the row `uuid` of `table`.
fn declare_id(ctx: &mut Ctx, id: &str, table: &str, uuid: Option<Uuid>) -> Result<Uuid, Fail> {
    if !id.starts_with('@') {
        return fatal!("row id \"{id}\" does not begin with \"@\"");
    }
    let sym = ctx.symtab.get_or_insert(id);
    if sym.created {
        return fatal!("row id \"{id}\" may only be specified on one --id option");
    }
    sym.created = true;
    sym.table = Some(table.to_string());
    if let Some(u) = uuid {
        sym.uuid = u;
        sym.strong_ref = true;
    }
    Ok(sym.uuid)
}

pub fn cmd_get(ctx: &mut Ctx) -> CmdResult {
    let if_exists = ctx.has_option("--if-exists");
    let id = ctx.option("--id").map(str::to_string);
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let record = ctx.args[2].clone();
    if id.is_some() && ctx.args.len() > 3 {
        // Upstream allows columns with --id too; nothing special here.
    }
    let Some(row) = get_row(ctx, &t.name, &record, !if_exists)? else {
        return Ok(());
    };
    if let Some(id) = id {
        declare_id(ctx, &id, &t.name, Some(row))?;
    }
    let args = ctx.args;
    for arg in &args[3..] {
        let ca = parse_column_arg(arg, &[]).map_err(Fail::Fatal)?;
        let col = get_column(&t, &ca.column)?;
        let ty = col.ty();
        let d = column_value(ctx, &t.name, &row, &col);
        match ca.key {
            Some(k) => {
                if ty.value.is_none() {
                    return fatal!(
                        "cannot specify key to get for non-map column {}",
                        col.name()
                    );
                }
                let key = atom_from_string(&ty.key, &k, Some(ctx.symtab)).map_err(Fail::Fatal)?;
                match d.get(&key) {
                    Some(v) => {
                        let text = v.to_text();
                        ctx.println(text);
                    }
                    None if if_exists => ctx.println(""),
                    None => {
                        return fatal!(
                            "no key \"{k}\" in {} record \"{record}\" column {}",
                            t.name,
                            col.name()
                        )
                    }
                }
            }
            None => {
                let text = d.to_text(&ty);
                ctx.println(text);
            }
        }
    }
    Ok(())
}

pub fn cmd_set(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let record = ctx.args[2].clone();
    let Some(row) = get_row(ctx, &t.name, &record, !ctx.has_option("--if-exists"))? else {
        return Ok(());
    };
    let args = ctx.args;
    for arg in &args[3..] {
        set_column(ctx, &t.name, &row, arg)?;
    }
    ctx.invalidate_cache();
    Ok(())
}

fn plural(t: &Type) -> &'static str {
    if t.is_map() {
        "pairs"
    } else {
        "values"
    }
}

pub fn cmd_add(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let record = ctx.args[2].clone();
    let Some(row) = get_row(ctx, &t.name, &record, !ctx.has_option("--if-exists"))? else {
        return Ok(());
    };
    let col = get_column(&t, &ctx.args[3])?;
    check_mutable(ctx, &t, &row, &col)?;
    let Column::Data(c) = col else {
        return Ok(());
    };
    let c = c.clone();
    let relaxed = c.ty.relaxed();
    let args = ctx.args;
    for arg in &args[4..] {
        let add = datum_from_string(&relaxed, arg, Some(ctx.symtab)).map_err(Fail::Fatal)?;
        for (k, v) in add.iter() {
            match v {
                Some(v) => ctx
                    .txn
                    .map_set(ctx.r, &t.name, &row, &c.name, k.clone(), v.clone())
                    .map_err(txn_err)?,
                None => ctx
                    .txn
                    .set_add(ctx.r, &t.name, &row, &c.name, k.clone())
                    .map_err(txn_err)?,
            }
        }
    }
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_remove(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let record = ctx.args[2].clone();
    let Some(row) = get_row(ctx, &t.name, &record, !ctx.has_option("--if-exists"))? else {
        return Ok(());
    };
    let col = get_column(&t, &ctx.args[3])?;
    check_mutable(ctx, &t, &row, &col)?;
    let Column::Data(c) = col else {
        return Ok(());
    };
    let c = c.clone();
    let relaxed = c.ty.relaxed();
    let args = ctx.args;
    for arg in &args[4..] {
        let parsed = datum_from_string(&relaxed, arg, Some(ctx.symtab));
        let (rm, keys_only) = match (parsed, c.ty.is_map()) {
            (Ok(d), _) => (d, false),
            (Err(e), false) => return Err(Fail::Fatal(e)),
            (Err(_), true) => {
                let kt = Type {
                    key: c.ty.key.clone(),
                    value: None,
                    n_min: 0,
                    n_max: u32::MAX,
                };
                let d = datum_from_string(&kt, arg, Some(ctx.symtab)).map_err(Fail::Fatal)?;
                (d, true)
            }
        };
        let current = ctx.get(&t.name, &row, &c.name);
        for (k, v) in rm.iter() {
            let hit = match (v, keys_only) {
                (Some(v), false) => current.get(k) == Some(v),
                _ => current.contains_key(k),
            };
            if !hit {
                continue;
            }
            if c.ty.is_map() {
                ctx.txn
                    .map_remove(ctx.r, &t.name, &row, &c.name, k.clone())
                    .map_err(txn_err)?;
            } else {
                ctx.txn
                    .set_remove(ctx.r, &t.name, &row, &c.name, k.clone())
                    .map_err(txn_err)?;
            }
        }
    }
    let n = ctx.get(&t.name, &row, &c.name).len();
    if (n as u64) < u64::from(c.ty.n_min) {
        return fatal!(
            "\"remove\" operation would put {n} {} in column {} of table {} but the minimum number is {}",
            plural(&c.ty),
            c.name,
            t.name,
            c.ty.n_min
        );
    }
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_clear(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let record = ctx.args[2].clone();
    let Some(row) = get_row(ctx, &t.name, &record, !ctx.has_option("--if-exists"))? else {
        return Ok(());
    };
    let args = ctx.args;
    for name in &args[3..] {
        let col = get_column(&t, name)?;
        check_mutable(ctx, &t, &row, &col)?;
        let Column::Data(c) = col else {
            continue;
        };
        if c.ty.n_min > 0 {
            return fatal!(
                "\"clear\" operation cannot be applied to column {} of table {}, which is not allowed to be empty",
                c.name,
                t.name
            );
        }
        let empty = Datum::empty(c.ty.is_map());
        ctx.txn
            .set(ctx.r, &t.name, &row, &c.name, empty)
            .map_err(txn_err)?;
    }
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_create(ctx: &mut Ctx) -> CmdResult {
    let id = ctx.option("--id").map(str::to_string);
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let uuid = match &id {
        Some(id) => declare_id(ctx, id, &t.name, None)?,
        None => {
            if !ctx.r.schema().is_root(&t.name) {
                vlog::warn!(
                    "db_ctl_base",
                    "applying \"create\" command to table {} without --id option will have no effect",
                    t.name
                );
            }
            Uuid::random()
        }
    };
    let row = ctx
        .txn
        .insert_with_uuid(ctx.r, &t.name, uuid)
        .map_err(txn_err)?;
    let args = ctx.args;
    for arg in &args[2..] {
        set_column(ctx, &t.name, &row, arg)?;
    }
    *ctx.post = Some(Post::PrintInserted(row));
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_destroy(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let all = ctx.has_option("--all");
    let must = !ctx.has_option("--if-exists");
    if all && ctx.args.len() > 2 {
        return fatal!("--all and records argument should not be specified together");
    }
    if !all && ctx.args.len() < 3 {
        vlog::warn!(
            "db_ctl_base",
            "either --all or records argument should be specified"
        );
    }
    let rows: Vec<Uuid> = if all {
        ctx.rows(&t.name)
    } else {
        let mut v = Vec::new();
        let args = ctx.args;
        for id in &args[2..] {
            if let Some(r) = get_row(ctx, &t.name, id, must)? {
                v.push(r);
            }
        }
        v
    };
    for r in rows {
        if ctx.exists(&t.name, &r) {
            ctx.txn.delete(ctx.r, &t.name, &r).map_err(txn_err)?;
        }
    }
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_wait_until(ctx: &mut Ctx) -> CmdResult {
    let t = get_table(ctx, &ctx.args[1])?.clone();
    let record = ctx.args[2].clone();
    let Some(row) = get_row(ctx, &t.name, &record, false)? else {
        ctx.try_again = true;
        return Ok(());
    };
    let args = ctx.args;
    for arg in &args[3..] {
        if !condition_holds(ctx, &t, &row, arg)? {
            ctx.try_again = true;
            return Ok(());
        }
    }
    Ok(())
}

pub fn cmd_comment(_ctx: &mut Ctx) -> CmdResult {
    Ok(())
}

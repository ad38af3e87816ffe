//! Tables of database values as `ovsdb-client` and `ovs-vsctl` print them.
//!
//! This module owns the output library the database tools share: a [`Table`]
//! of headed columns whose cells hold either ready text or a JSON value with
//! its column [`Type`], and the five renderings selected by `--format`
//! (`table`, `list`, `html`, `csv`, `json`) with the cell renderings selected
//! by `--data` (`string`, `bare`, `json`), plus `--bare`, `--no-headings`,
//! `--pretty`, `--max-column-width` and timestamps. It also owns OVS's
//! pretty JSON layout ([`json_to_string`]), which the tools use for results.
//!
//! ```text
//! let mut t = Table::new();
//! t.set_caption("Bridge table");
//! t.add_column("_uuid"); t.add_column("name");
//! t.add_row();
//! t.add_cell(Cell::json(uuid_json, Some(Type::scalar(AtomicType::Uuid))));
//! t.add_cell(Cell::text("br0"));
//! print!("{}", printer.format(&t, &style));
//! ```
//!
//! Widths are counted in bytes, as upstream's `printf("%-*s")` does.

#![allow(dead_code)] // shared with ovs-vsctl, which lands separately

use ovsdb::datum::{string_needs_quotes, Atom, Datum};
use ovsdb::json;
use ovsdb::types::{AtomicType, Type};
use serde_json::Value;

/// `--format`: how a whole table is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Table,
    List,
    Html,
    Csv,
    Json,
}

/// `--data`: how one cell's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellFormat {
    /// `{k=v, ...}`, `[a, b]`, quoted strings where needed.
    String,
    /// Space-separated atoms, strings never quoted.
    Bare,
    /// The value's OVSDB JSON.
    Json,
}

/// The output options of the database tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableStyle {
    pub format: TableFormat,
    pub cell_format: CellFormat,
    /// Print column headings (`--no-headings` clears it).
    pub headings: bool,
    /// `--pretty`: indent JSON output.
    pub pretty: bool,
    /// `--max-column-width` (0: no limit), for the `table` format.
    pub max_column_width: usize,
}

impl Default for TableStyle {
    fn default() -> TableStyle {
        TableStyle {
            format: TableFormat::Table,
            cell_format: CellFormat::String,
            headings: true,
            pretty: false,
            max_column_width: 0,
        }
    }
}

/// The long options every table-printing tool accepts, for `getopt::parse`.
pub const TABLE_LONG_OPTIONS: &[crate::getopt::LongOpt] = &[
    ("format", Some('f'), crate::getopt::Arg::Required),
    ("data", Some('d'), crate::getopt::Arg::Required),
    ("no-headings", None, crate::getopt::Arg::None),
    ("pretty", None, crate::getopt::Arg::None),
    ("bare", None, crate::getopt::Arg::None),
    ("max-column-width", None, crate::getopt::Arg::Required),
];

impl TableStyle {
    /// Applies one of [`TABLE_LONG_OPTIONS`]. Returns `Ok(false)` when
    /// `name` is not a table option, `Err` with upstream's fatal message
    /// text (without the program name) for a bad value.
    pub fn apply_option(&mut self, name: &str, value: Option<&str>) -> Result<bool, String> {
        let value = value.unwrap_or("");
        match name {
            "format" => self.format = parse_format(value)?,
            "data" => self.cell_format = parse_cell_format(value)?,
            "no-headings" => self.headings = false,
            "pretty" => self.pretty = true,
            "bare" => {
                self.format = TableFormat::List;
                self.cell_format = CellFormat::Bare;
                self.headings = false;
            }
            "max-column-width" => self.max_column_width = atoi(value).max(0) as usize,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Parses a `--format` value.
pub fn parse_format(s: &str) -> Result<TableFormat, String> {
    Ok(match s {
        "table" => TableFormat::Table,
        "list" => TableFormat::List,
        "html" => TableFormat::Html,
        "csv" => TableFormat::Csv,
        "json" => TableFormat::Json,
        _ => return Err(format!("unknown output format \"{s}\"")),
    })
}

/// Parses a `--data` value.
pub fn parse_cell_format(s: &str) -> Result<CellFormat, String> {
    Ok(match s {
        "string" => CellFormat::String,
        "bare" => CellFormat::Bare,
        "json" => CellFormat::Json,
        _ => return Err(format!("unknown data format \"{s}\"")),
    })
}

/// C's `atoi`: leading blanks, optional sign, digits; anything else stops.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// One cell: fixed text, or a JSON value rendered per the style.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    text: Option<String>,
    json: Option<Value>,
    ty: Option<Type>,
}

impl Cell {
    /// A cell printed as `text` in every format (a JSON string in `json`).
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: Some(text.into()),
            ..Cell::default()
        }
    }

    /// A cell holding OVSDB JSON; with `ty`, `--data=string|bare` render it
    /// as a datum of that type (JSON text if it does not parse as one).
    pub fn json(json: Value, ty: Option<Type>) -> Cell {
        Cell {
            text: None,
            json: Some(json),
            ty,
        }
    }

    /// The cell's text under `cell_format` (upstream's cell_to_text).
    pub fn to_text(&self, cell_format: CellFormat) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        let Some(j) = &self.json else {
            return String::new();
        };
        match (&self.ty, cell_format) {
            (Some(ty), CellFormat::String | CellFormat::Bare) => {
                match Datum::from_json(ty, j, None) {
                    Ok(d) if cell_format == CellFormat::String => datum_to_string(&d, ty),
                    Ok(d) => datum_to_bare(&d, ty),
                    Err(_) => json::to_string(j, true),
                }
            }
            _ => json::to_string(j, true),
        }
    }

    /// The cell in the `json` output format.
    fn to_json(&self) -> Value {
        match (&self.text, &self.json) {
            (Some(t), _) => Value::String(t.clone()),
            (None, Some(j)) => j.clone(),
            (None, None) => Value::Null,
        }
    }
}

/// An atom as `ovsdb-client` and `ovs-vsctl` print it in string form.
pub fn atom_to_string(a: &Atom) -> String {
    match a {
        Atom::Integer(i) => i.to_string(),
        Atom::Real(r) => json::format_g(*r, 15),
        Atom::Boolean(b) => b.to_string(),
        Atom::String(s) if string_needs_quotes(s) => json::quote(s),
        Atom::String(s) => s.clone(),
        Atom::Uuid(u) => u.to_string(),
    }
}

/// An atom in bare form: strings exactly as they are.
pub fn atom_to_bare(a: &Atom) -> String {
    match a {
        Atom::String(s) => s.clone(),
        other => atom_to_string(other),
    }
}

/// A datum in string form: `{k=v, ...}` for maps and `[a, b]` for sets
/// when the type allows more than one element or the datum is empty,
/// otherwise the single element.
pub fn datum_to_string(d: &Datum, ty: &Type) -> String {
    let brackets = ty.n_max > 1 || d.is_empty();
    let (open, close) = if ty.is_map() { ('{', '}') } else { ('[', ']') };
    let mut out = String::new();
    if brackets {
        out.push(open);
    }
    for (i, (k, v)) in d.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&atom_to_string(k));
        if let Some(v) = v {
            out.push('=');
            out.push_str(&atom_to_string(v));
        }
    }
    if brackets {
        out.push(close);
    }
    out
}

/// A datum in bare form: elements (`k=v` for maps) separated by spaces.
pub fn datum_to_bare(d: &Datum, _ty: &Type) -> String {
    let mut out = String::new();
    for (i, (k, v)) in d.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&atom_to_bare(k));
        if let Some(v) = v {
            out.push('=');
            out.push_str(&atom_to_bare(v));
        }
    }
    out
}

/// A table: a caption, headed columns, and rows of cells.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headings: Vec<String>,
    rows: Vec<Vec<Cell>>,
    caption: Option<String>,
    timestamp: bool,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// Sets the line printed above the table ("Bridge table").
    pub fn set_caption(&mut self, caption: impl Into<String>) {
        self.caption = Some(caption.into());
    }

    /// Prints the current UTC time (to the millisecond) above the table.
    pub fn set_timestamp(&mut self, timestamp: bool) {
        self.timestamp = timestamp;
    }

    /// Adds a column; returns its index.
    pub fn add_column(&mut self, heading: impl Into<String>) -> usize {
        self.headings.push(heading.into());
        self.headings.len() - 1
    }

    /// Starts a new row; cells are added left to right with [`Table::add_cell`].
    pub fn add_row(&mut self) {
        self.rows.push(Vec::with_capacity(self.headings.len()));
    }

    /// Adds the next cell of the last row (starting a row if there is none).
    pub fn add_cell(&mut self, cell: Cell) {
        if self.rows.is_empty() {
            self.add_row();
        }
        if let Some(row) = self.rows.last_mut() {
            row.push(cell);
        }
    }

    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    pub fn n_columns(&self) -> usize {
        self.headings.len()
    }

    pub fn headings(&self) -> &[String] {
        &self.headings
    }

    /// The cell at (`row`, `column`); a missing cell is empty.
    pub fn cell(&self, row: usize, column: usize) -> Option<&Cell> {
        self.rows.get(row).and_then(|r| r.get(column))
    }

    fn text_at(&self, row: usize, column: usize, style: &TableStyle) -> String {
        self.cell(row, column)
            .map(|c| c.to_text(style.cell_format))
            .unwrap_or_default()
    }
}

/// Prints tables one after another, as one process does: the `table`,
/// `list` and `csv` formats put a blank line between consecutive tables.
#[derive(Clone, Debug, Default)]
pub struct TablePrinter {
    printed: [usize; 3],
}

impl TablePrinter {
    pub fn new() -> TablePrinter {
        TablePrinter::default()
    }

    /// The text of `table` in `style` (ends with a newline unless empty).
    pub fn format(&mut self, table: &Table, style: &TableStyle) -> String {
        let mut out = String::new();
        let slot = match style.format {
            TableFormat::Table => Some(0),
            TableFormat::List => Some(1),
            TableFormat::Csv => Some(2),
            TableFormat::Html | TableFormat::Json => None,
        };
        if let Some(slot) = slot {
            if self.printed[slot] > 0 {
                out.push('\n');
            }
            self.printed[slot] += 1;
        }
        match style.format {
            TableFormat::Table => format_table(table, style, &mut out),
            TableFormat::List => format_list(table, style, &mut out),
            TableFormat::Html => format_html(table, style, &mut out),
            TableFormat::Csv => format_csv(table, style, &mut out),
            TableFormat::Json => format_json(table, style, &mut out),
        }
        out
    }
}

/// The timestamp line format: UTC, milliseconds.
pub fn timestamp_now() -> String {
    vlog::format_time("%Y-%m-%d %H:%M:%S.###", true)
}

fn put_timestamp_and_caption(table: &Table, out: &mut String) {
    if table.timestamp {
        out.push_str(&timestamp_now());
        out.push('\n');
    }
    if let Some(c) = &table.caption {
        out.push_str(c);
        out.push('\n');
    }
}

/// Appends `s` left-aligned in `width` bytes, truncated to `width` when
/// `truncate` (at a character boundary).
fn put_padded(out: &mut String, s: &str, width: usize, truncate: bool) {
    let s = if truncate && s.len() > width {
        let mut end = width;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        &s[..end]
    } else {
        s
    };
    out.push_str(s);
    for _ in s.len()..width {
        out.push(' ');
    }
}

fn end_line(out: &mut String, line: &mut String) {
    let trimmed = line.trim_end_matches(' ');
    out.push_str(trimmed);
    out.push('\n');
    line.clear();
}

fn format_table(table: &Table, style: &TableStyle, out: &mut String) {
    put_timestamp_and_caption(table, out);
    let n_cols = table.n_columns();
    let texts: Vec<Vec<String>> = (0..table.n_rows())
        .map(|y| (0..n_cols).map(|x| table.text_at(y, x, style)).collect())
        .collect();
    let widths: Vec<usize> = (0..n_cols)
        .map(|x| {
            let mut w = texts.iter().map(|r| r[x].len()).max().unwrap_or(0);
            if style.max_column_width > 0 && w > style.max_column_width {
                w = style.max_column_width;
            }
            if style.headings {
                w = w.max(table.headings[x].len());
            }
            w
        })
        .collect();
    let mut line = String::new();
    if style.headings {
        for (x, h) in table.headings.iter().enumerate() {
            if x > 0 {
                line.push(' ');
            }
            put_padded(&mut line, h, widths[x], false);
        }
        end_line(out, &mut line);
        for (x, w) in widths.iter().enumerate() {
            if x > 0 {
                line.push(' ');
            }
            line.extend(std::iter::repeat('-').take(*w));
        }
        end_line(out, &mut line);
    }
    for row in &texts {
        for (x, text) in row.iter().enumerate() {
            if x > 0 {
                line.push(' ');
            }
            put_padded(&mut line, text, widths[x], true);
        }
        end_line(out, &mut line);
    }
}

fn format_list(table: &Table, style: &TableStyle, out: &mut String) {
    put_timestamp_and_caption(table, out);
    for y in 0..table.n_rows() {
        if y > 0 {
            out.push('\n');
        }
        for (x, h) in table.headings.iter().enumerate() {
            if style.headings {
                put_padded(out, h, 20, false);
                out.push_str(": ");
            }
            out.push_str(&table.text_at(y, x, style));
            out.push('\n');
        }
    }
}

fn escape_html(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// True if `s` starts with a UUID (8-4-4-4-12 hex digits).
fn starts_with_uuid(s: &[u8]) -> bool {
    if s.len() < 36 {
        return false;
    }
    s[..36].iter().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

/// One html element with `content` escaped and every UUID in it turned
/// into a link to the row it names.
fn html_cell(out: &mut String, element: &str, content: &str) {
    out.push_str(&format!("    <{element}>"));
    let bytes = content.as_bytes();
    let mut p = 0;
    let mut plain_start = 0;
    while p < bytes.len() {
        if starts_with_uuid(&bytes[p..]) {
            escape_html(out, &content[plain_start..p]);
            let uuid = &content[p..p + 36];
            out.push_str(&format!("<a href=\"#{uuid}\">{}</a>", &uuid[..8]));
            p += 36;
            plain_start = p;
        } else {
            p += 1;
        }
    }
    escape_html(out, &content[plain_start..]);
    out.push_str(&format!("</{element}>\n"));
}

fn format_html(table: &Table, style: &TableStyle, out: &mut String) {
    if table.timestamp {
        out.push_str(&timestamp_now());
        out.push('\n');
    }
    out.push_str("<table border=1>\n");
    if let Some(c) = &table.caption {
        html_cell(out, "caption", c);
    }
    if style.headings {
        out.push_str("  <tr>\n");
        for h in &table.headings {
            html_cell(out, "th", h);
        }
        out.push_str("  </tr>\n");
    }
    for y in 0..table.n_rows() {
        out.push_str("  <tr>\n");
        for (x, h) in table.headings.iter().enumerate() {
            let content = table.text_at(y, x, style);
            if h == "_uuid" {
                out.push_str("    <td><a name=\"");
                escape_html(out, &content);
                out.push_str("\">");
                let mut end = content.len().min(8);
                while !content.is_char_boundary(end) {
                    end -= 1;
                }
                escape_html(out, &content[..end]);
                out.push_str("</a></td>\n");
            } else {
                html_cell(out, "td", &content);
            }
        }
        out.push_str("  </tr>\n");
    }
    out.push_str("</table>\n");
}

fn csv_cell(out: &mut String, content: &str) {
    if !content.contains(['\n', '"', ',']) {
        out.push_str(content);
    } else {
        out.push('"');
        out.push_str(&content.replace('"', "\"\""));
        out.push('"');
    }
}

fn format_csv(table: &Table, style: &TableStyle, out: &mut String) {
    put_timestamp_and_caption(table, out);
    if style.headings {
        for (x, h) in table.headings.iter().enumerate() {
            if x > 0 {
                out.push(',');
            }
            csv_cell(out, h);
        }
        out.push('\n');
    }
    for y in 0..table.n_rows() {
        for x in 0..table.n_columns() {
            if x > 0 {
                out.push(',');
            }
            csv_cell(out, &table.text_at(y, x, style));
        }
        out.push('\n');
    }
}

fn format_json(table: &Table, style: &TableStyle, out: &mut String) {
    let mut obj = serde_json::Map::new();
    if let Some(c) = &table.caption {
        obj.insert("caption".into(), Value::String(c.clone()));
    }
    if table.timestamp {
        obj.insert("time".into(), Value::String(timestamp_now()));
    }
    obj.insert(
        "headings".into(),
        Value::Array(table.headings.iter().cloned().map(Value::String).collect()),
    );
    let data = (0..table.n_rows())
        .map(|y| {
            Value::Array(
                (0..table.n_columns())
                    .map(|x| table.cell(y, x).map(Cell::to_json).unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    obj.insert("data".into(), Value::Array(data));
    out.push_str(&json_to_string(&Value::Object(obj), true, style.pretty));
    out.push('\n');
}

/// JSON text as OVS's `json_to_string` writes it: compact, or with
/// `pretty` one member or element per line indented two spaces per level
/// (closing brackets stay on the last line, as upstream lays them out);
/// `sort` orders object members by name.
pub fn json_to_string(v: &Value, sort: bool, pretty: bool) -> String {
    if !pretty {
        return json::to_string(v, sort);
    }
    let mut out = String::new();
    write_pretty(&mut out, v, sort, 0);
    out
}

fn newline_indent(out: &mut String, depth: usize) {
    out.push('\n');
    out.extend(std::iter::repeat(' ').take(depth * 2));
}

fn write_pretty(out: &mut String, v: &Value, sort: bool, depth: usize) {
    match v {
        Value::Array(a) => {
            out.push('[');
            if !a.is_empty() {
                newline_indent(out, depth + 1);
                for (i, e) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                        newline_indent(out, depth + 1);
                    }
                    write_pretty(out, e, sort, depth + 1);
                }
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            newline_indent(out, depth + 1);
            let mut members: Vec<(&String, &Value)> = o.iter().collect();
            if sort {
                members.sort_by(|a, b| a.0.cmp(b.0));
            } else {
                let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
                let order = json::shash_order(&keys);
                members = order.into_iter().map(|i| members[i]).collect();
            }
            for (i, (k, e)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    newline_indent(out, depth + 1);
                }
                json::write_string(out, k);
                out.push_str(": ");
                write_pretty(out, e, sort, depth + 1);
            }
            out.push('}');
        }
        other => out.push_str(&json::to_string(other, sort)),
    }
}

/// The column type of an `_uuid` or `_version` column.
pub fn uuid_type() -> Type {
    Type::scalar(AtomicType::Uuid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set_of(atomic: AtomicType) -> Type {
        let mut t = Type::scalar(atomic);
        t.n_min = 0;
        t.n_max = u32::MAX;
        t
    }

    fn map_of(k: AtomicType, v: AtomicType, max: u32) -> Type {
        let mut t = Type::scalar(k);
        t.value = Some(ovsdb::types::BaseType::new(v));
        t.n_min = 0;
        t.n_max = max;
        t
    }

    fn sample() -> Table {
        let mut t = Table::new();
        t.set_caption("T table");
        t.add_column("_uuid");
        t.add_column("name");
        t.add_column("m");
        t.add_column("s");
        t.add_row();
        t.add_cell(Cell::json(
            json!(["uuid", "951fa293-041f-4aea-88ee-3f50db56ce45"]),
            Some(uuid_type()),
        ));
        t.add_cell(Cell::json(
            json!("a\nb"),
            Some(Type::scalar(AtomicType::String)),
        ));
        t.add_cell(Cell::json(
            json!(["map", []]),
            Some(map_of(AtomicType::String, AtomicType::String, u32::MAX)),
        ));
        t.add_cell(Cell::json(
            json!(["set", []]),
            Some(set_of(AtomicType::String)),
        ));
        t.add_row();
        t.add_cell(Cell::json(
            json!(["uuid", "60947492-9632-4697-a2e6-bf7cdabae704"]),
            Some(uuid_type()),
        ));
        t.add_cell(Cell::json(
            json!("br0"),
            Some(Type::scalar(AtomicType::String)),
        ));
        t.add_cell(Cell::json(
            json!(["map", [["k", "v"], ["x y", "a\"b<&>,"]]]),
            Some(map_of(AtomicType::String, AtomicType::String, u32::MAX)),
        ));
        t.add_cell(Cell::json(
            json!(["set", ["", "12", "a", "b c", "true"]]),
            Some(set_of(AtomicType::String)),
        ));
        t
    }

    // Expected texts below were printed by upstream `ovsdb-client dump`
    // for the same rows.
    #[test]
    fn table_format_pads_and_trims() {
        let s = TablePrinter::new().format(&sample(), &TableStyle::default());
        assert_eq!(
            s,
            "T table\n\
_uuid                                name   m                       s\n\
------------------------------------ ------ ----------------------- ----------------------------\n\
951fa293-041f-4aea-88ee-3f50db56ce45 \"a\\nb\" {}                      []\n\
60947492-9632-4697-a2e6-bf7cdabae704 br0    {k=v, \"x y\"=\"a\\\"b<&>,\"} [\"\", \"12\", a, \"b c\", \"true\"]\n"
        );
    }

    #[test]
    fn second_table_is_separated_by_a_blank_line() {
        let mut p = TablePrinter::new();
        let style = TableStyle::default();
        let mut u = Table::new();
        u.set_caption("U table");
        u.add_column("x");
        u.add_cell(Cell::json(
            json!(5),
            Some(Type::scalar(AtomicType::Integer)),
        ));
        p.format(&sample(), &style);
        assert_eq!(p.format(&u, &style), "\nU table\nx\n-\n5\n");
    }

    #[test]
    fn max_column_width_truncates_cells_not_headings() {
        let style = TableStyle {
            max_column_width: 5,
            ..TableStyle::default()
        };
        let s = TablePrinter::new().format(&sample(), &style);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[1], "_uuid name  m     s");
        assert_eq!(lines[3], "951fa \"a\\nb {}    []");
        assert_eq!(lines[4], "60947 br0   {k=v, [\"\",");
    }

    #[test]
    fn list_and_bare() {
        let mut style = TableStyle::default();
        style.apply_option("format", Some("list")).unwrap();
        let s = TablePrinter::new().format(&sample(), &style);
        assert!(s.starts_with(
            "T table\n_uuid               : 951fa293-041f-4aea-88ee-3f50db56ce45\nname                : \"a\\nb\"\nm                   : {}\ns                   : []\n\n_uuid"
        ));
        let mut style = TableStyle::default();
        style.apply_option("bare", None).unwrap();
        let s = TablePrinter::new().format(&sample(), &style);
        assert_eq!(
            s,
            "T table\n951fa293-041f-4aea-88ee-3f50db56ce45\na\nb\n\n\n\n60947492-9632-4697-a2e6-bf7cdabae704\nbr0\nk=v x y=a\"b<&>,\n 12 a b c true\n"
        );
    }

    #[test]
    fn html_escapes_and_links_uuids() {
        let mut style = TableStyle::default();
        style.format = TableFormat::Html;
        let mut t = sample();
        t.add_column("ref");
        t.rows[0].push(Cell::text("[47f41419-326a-4309-bdbd-78dfb2965b5a]"));
        let s = TablePrinter::new().format(&t, &style);
        assert!(s.starts_with(
            "<table border=1>\n    <caption>T table</caption>\n  <tr>\n    <th>_uuid</th>\n"
        ));
        assert!(s.contains(
            "    <td><a name=\"951fa293-041f-4aea-88ee-3f50db56ce45\">951fa293</a></td>\n"
        ));
        assert!(s.contains(
            "    <td>{k=v, &quot;x y&quot;=&quot;a\\&quot;b&lt;&amp;&gt;,&quot;}</td>\n"
        ));
        assert!(s.contains(
            "    <td>[<a href=\"#47f41419-326a-4309-bdbd-78dfb2965b5a\">47f41419</a>]</td>\n"
        ));
        assert!(s.ends_with("  </tr>\n</table>\n"));
    }

    #[test]
    fn csv_quotes_when_needed() {
        let mut style = TableStyle::default();
        style.format = TableFormat::Csv;
        let s = TablePrinter::new().format(&sample(), &style);
        assert_eq!(
            s,
            "T table\n_uuid,name,m,s\n951fa293-041f-4aea-88ee-3f50db56ce45,\"\"\"a\\nb\"\"\",{},[]\n\
60947492-9632-4697-a2e6-bf7cdabae704,br0,\"{k=v, \"\"x y\"\"=\"\"a\\\"\"b<&>,\"\"}\",\"[\"\"\"\", \"\"12\"\", a, \"\"b c\"\", \"\"true\"\"]\"\n"
        );
    }

    #[test]
    fn json_format_compact_and_pretty() {
        let mut t = Table::new();
        t.set_caption("U table");
        t.add_column("_uuid");
        t.add_column("x");
        t.add_cell(Cell::json(
            json!(["uuid", "47f41419-326a-4309-bdbd-78dfb2965b5a"]),
            Some(uuid_type()),
        ));
        t.add_cell(Cell::json(json!(5), None));
        let mut style = TableStyle {
            format: TableFormat::Json,
            ..TableStyle::default()
        };
        let mut p = TablePrinter::new();
        assert_eq!(
            p.format(&t, &style),
            "{\"caption\":\"U table\",\"data\":[[[\"uuid\",\"47f41419-326a-4309-bdbd-78dfb2965b5a\"],5]],\"headings\":[\"_uuid\",\"x\"]}\n"
        );
        style.pretty = true;
        assert_eq!(
            p.format(&t, &style),
            "{\n  \"caption\": \"U table\",\n  \"data\": [\n    [\n      [\n        \"uuid\",\n        \"47f41419-326a-4309-bdbd-78dfb2965b5a\"],\n      5]],\n  \"headings\": [\n    \"_uuid\",\n    \"x\"]}\n"
        );
    }

    #[test]
    fn pretty_empty_containers() {
        assert_eq!(
            json_to_string(&json!([{}, {"rows": [{}]}]), true, true),
            "[\n  {\n    },\n  {\n    \"rows\": [\n      {\n        }]}]"
        );
        assert_eq!(
            json_to_string(&json!({"a": []}), true, true),
            "{\n  \"a\": []}"
        );
    }

    #[test]
    fn data_formats() {
        let ty = map_of(AtomicType::String, AtomicType::Integer, 1);
        let c = Cell::json(json!(["map", [["one", 1]]]), Some(ty));
        assert_eq!(c.to_text(CellFormat::String), "one=1");
        assert_eq!(c.to_text(CellFormat::Bare), "one=1");
        assert_eq!(c.to_text(CellFormat::Json), "[\"map\",[[\"one\",1]]]");
        let mut opt = Type::scalar(AtomicType::Integer);
        opt.n_min = 0;
        assert_eq!(
            Cell::json(json!(["set", []]), Some(opt.clone())).to_text(CellFormat::String),
            "[]"
        );
        assert_eq!(
            Cell::json(json!(7), Some(opt)).to_text(CellFormat::String),
            "7"
        );
        // Not a datum of the type: JSON text.
        let c = Cell::json(
            json!({"b": 1, "a": 2}),
            Some(Type::scalar(AtomicType::Integer)),
        );
        assert_eq!(c.to_text(CellFormat::String), "{\"a\":2,\"b\":1}");
        assert_eq!(Cell::default().to_text(CellFormat::String), "");
    }

    #[test]
    fn option_errors_read_like_upstream() {
        let mut s = TableStyle::default();
        assert_eq!(
            s.apply_option("format", Some("xml")),
            Err("unknown output format \"xml\"".into())
        );
        assert_eq!(
            s.apply_option("data", Some("foo")),
            Err("unknown data format \"foo\"".into())
        );
        assert_eq!(s.apply_option("columns", Some("x")), Ok(false));
        assert_eq!(s.apply_option("max-column-width", Some("12abc")), Ok(true));
        assert_eq!(s.max_column_width, 12);
    }
}

//! The trace tree translation builds when asked to (`ofproto/trace`): one
//! node per bridge entered, table looked up, action executed, and detail,
//! warning or error worth telling, nested the way upstream nests them, and
//! its rendering with upstream's indentation.
//!
//! Nodes go into the "current list"; entering a table (or a bridge, or a
//! thaw) makes that node's children the current list until the caller
//! restores the previous one.  Rendering indents a node by four spaces per
//! level, plus four when more siblings follow it or it is a terse node
//! (action, detail, warning, error); its children start that many levels
//! further in again, which is what puts a resubmitted table's actions eight
//! columns deeper when the resubmit was not the last action.

/// What a node reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// `bridge("br0")` with a dashed underline, after a blank line.
    Bridge,
    /// ` 0. match, priority N`
    Table,
    /// `bucket N` of a group (its actions nested under it).
    Bucket,
    /// `thaw` and its explanation.
    Thaw,
    /// An OpenFlow action, as ovs-ofctl prints it.
    Action,
    /// ` -> text`
    Detail,
    /// ` >> text`
    Warn,
    /// ` >>>> text <<<<`
    Error,
}

impl NodeKind {
    fn is_terse(self) -> bool {
        matches!(
            self,
            NodeKind::Action
                | NodeKind::Detail
                | NodeKind::Warn
                | NodeKind::Error
                | NodeKind::Bucket
        )
    }
}

#[derive(Clone, Debug)]
struct Node {
    kind: NodeKind,
    text: String,
    subs: Vec<usize>,
}

/// A trace under construction (an arena of nodes; node 0 is the root).
#[derive(Clone, Debug)]
pub struct Trace {
    nodes: Vec<Node>,
    cur: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

/// Where reports go (to restore after a nested translation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(usize);

impl Trace {
    pub fn new() -> Trace {
        Trace {
            nodes: vec![Node {
                kind: NodeKind::Bridge,
                text: String::new(),
                subs: Vec::new(),
            }],
            cur: 0,
        }
    }

    /// Adds a node to the current list; returns it.
    pub fn report(&mut self, kind: NodeKind, text: impl Into<String>) -> Cursor {
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind,
            text: text.into(),
            subs: Vec::new(),
        });
        self.nodes[self.cur].subs.push(id);
        Cursor(id)
    }

    /// The current list.
    pub fn cursor(&self) -> Cursor {
        Cursor(self.cur)
    }

    /// Makes `c`'s children the current list.
    pub fn enter(&mut self, c: Cursor) {
        self.cur = c.0;
    }

    /// Adds a node and makes its children the current list; returns the
    /// previous list.
    pub fn descend(&mut self, kind: NodeKind, text: impl Into<String>) -> Cursor {
        let prev = self.cursor();
        let n = self.report(kind, text);
        self.enter(n);
        prev
    }

    /// Renders the tree as upstream prints it after the `Flow:` line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_list(&self.nodes[0].subs, 0, &mut out);
        out
    }

    fn render_list(&self, list: &[usize], level: usize, out: &mut String) {
        for (i, &id) in list.iter().enumerate() {
            let n = &self.nodes[id];
            if n.kind == NodeKind::Bridge {
                out.push('\n');
            }
            let more = usize::from(i + 1 < list.len() || n.kind.is_terse());
            let indent = " ".repeat((level + more) * 4);
            out.push_str(&indent);
            match n.kind {
                NodeKind::Detail => out.push_str(&format!(" -> {}\n", n.text)),
                NodeKind::Warn => out.push_str(&format!(" >> {}\n", n.text)),
                NodeKind::Error => out.push_str(&format!(" >>>> {} <<<<\n", n.text)),
                NodeKind::Bridge => {
                    out.push_str(&n.text);
                    out.push('\n');
                    out.push_str(&indent);
                    out.push_str(&"-".repeat(n.text.len()));
                    out.push('\n');
                }
                NodeKind::Table | NodeKind::Thaw | NodeKind::Action | NodeKind::Bucket => {
                    out.push_str(&n.text);
                    out.push('\n');
                }
            }
            self.render_list(&n.subs, level + 2 * more, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape the reference prints for a non-tail resubmit chain.
    #[test]
    fn nested_resubmits_indent_like_upstream() {
        let mut t = Trace::new();
        t.descend(NodeKind::Bridge, "bridge(\"br0\")");
        t.descend(NodeKind::Table, " 0. priority 32768");
        t.report(NodeKind::Action, "resubmit(,1)");
        let back = t.descend(NodeKind::Table, " 1. priority 32768");
        t.report(NodeKind::Action, "resubmit(,3)");
        t.descend(NodeKind::Table, " 3. priority 32768");
        t.report(NodeKind::Action, "note:01.00.00.00.00.00");
        t.enter(back);
        t.report(NodeKind::Action, "resubmit(,2)");
        t.descend(NodeKind::Table, " 2. priority 32768");
        t.report(NodeKind::Action, "output:2");
        assert_eq!(
            t.render(),
            "\nbridge(\"br0\")\n-------------\n 0. priority 32768\n    resubmit(,1)\n     1. priority 32768\n            resubmit(,3)\n         3. priority 32768\n            note:01.00.00.00.00.00\n    resubmit(,2)\n 2. priority 32768\n    output:2\n"
        );
    }
}

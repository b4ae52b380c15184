//! Where the report's nodes and properties are in the `.dts` sources.
//!
//! `dtc -I dts -O dts -T -T` writes the tree back with a comment after
//! every node and property naming where it was defined:
//! `iommus = <0x01 0x05>; /* soc.dtsi:13:3-13:44 */`, a node's first
//! location being where it was first defined (later ones are `&label { }`
//! overrides). Run on the C preprocessor's output, the `# line "file"`
//! markers make those the original files. [`SourceMap::from_annotated`]
//! reads that text once into node path → location and (node, property) →
//! location; [`Report::locate`] attaches them to every item and diagnostic
//! that names a node. A `.dtb` has no such information: nothing is located.
//!
//! Lines and columns are 1-based; columns count bytes, as dtc's do. After
//! the preprocessor, dtc's column is that of the preprocessed line (the
//! first token keeps its column, tokens after an expanded macro move), so
//! [`SourceMap::refine_columns`] looks for the node's or property's name
//! in the original line near dtc's column.

use std::collections::HashMap;
use std::sync::Arc;

use super::report::Report;

/// A place in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl SourceLocation {
    /// `Some(file:line:column)`, as the tests of dtc's outputs expect.
    #[cfg(test)]
    pub(crate) fn at(file: &str, line: u32, column: u32) -> Option<Self> {
        Some(Self {
            file: file.into(),
            line,
            column,
        })
    }
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Node and property locations read from dtc's annotated output.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<Arc<str>>,
    /// Node path → (node number, its location: an index into `locs`).
    nodes: HashMap<String, (usize, Option<usize>)>,
    /// (node number, property name) → its location.
    properties: HashMap<(usize, String), usize>,
    locs: Vec<Loc>,
}

#[derive(Clone, Debug)]
struct Loc {
    file: usize,
    line: u32,
    column: u32,
    /// The name to look for in the original line.
    name: String,
}

/// The characters of node and property names (and unit addresses).
pub(crate) fn name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b",._+?#@-".contains(&b)
}

/// The statement and the annotation of one line of dtc's output.
fn split_note(line: &str) -> (&str, Option<&str>) {
    let line = line.trim();
    if let Some(body) = line.strip_suffix("*/") {
        if let Some(i) = body.rfind("/* ") {
            return (body[..i].trim_end(), Some(body[i + 3..].trim()));
        }
    }
    (line, None)
}

/// The last whitespace-separated token of `head`: labels (`lbl:`) come
/// before the name.
fn last_token(head: &str) -> Option<&str> {
    head.split_whitespace().last().filter(|t| !t.ends_with(':'))
}

impl SourceMap {
    /// Read `dtc -O dts -T -T` output. Lines it does not understand are
    /// skipped; one pass, so linear in the text.
    pub fn from_annotated(text: &str) -> SourceMap {
        let mut map = SourceMap::default();
        let mut interned: HashMap<String, usize> = HashMap::new();
        // The open nodes: (path, node number).
        let mut stack: Vec<(String, usize)> = Vec::new();
        for line in text.lines() {
            let (stmt, note) = split_note(line);
            if let Some(head) = stmt.strip_suffix('{') {
                let name = last_token(head).unwrap_or("");
                let path = match stack.last() {
                    None => "/".to_owned(),
                    Some((p, _)) if p == "/" => format!("/{name}"),
                    Some((p, _)) => format!("{p}/{name}"),
                };
                let hint = if stack.is_empty() { "/" } else { name };
                let loc = note.and_then(|n| map.first_location(n, hint, &mut interned));
                let number = map.nodes.len();
                map.nodes.insert(path.clone(), (number, loc));
                stack.push((path, number));
            } else if stmt == "};" {
                stack.pop();
            } else if let (Some(body), Some(&(_, node))) = (stmt.strip_suffix(';'), stack.last()) {
                let head = body.split(" = ").next().unwrap_or(body);
                let Some(name) = last_token(head) else {
                    continue;
                };
                if let Some(loc) = note.and_then(|n| map.first_location(n, name, &mut interned)) {
                    map.properties.insert((node, name.to_owned()), loc);
                }
            }
        }
        map
    }

    /// The first `file:line:col-line:col` of an annotation, stored.
    fn first_location(
        &mut self,
        note: &str,
        name: &str,
        interned: &mut HashMap<String, usize>,
    ) -> Option<usize> {
        let first = note.split(", ").next()?;
        // The end position follows the last '-'; the start is file:line:col.
        let start = first.rsplit_once('-').map_or(first, |(s, _)| s);
        let mut parts = start.rsplitn(3, ':');
        let column: u32 = parts.next()?.parse().ok()?;
        let line: u32 = parts.next()?.parse().ok()?;
        let name_of_file = parts.next()?;
        let next = self.files.len();
        let file = *interned.entry(name_of_file.to_owned()).or_insert(next);
        if file == next {
            self.files.push(Arc::from(name_of_file));
        }
        self.locs.push(Loc {
            file,
            line,
            column,
            name: name.to_owned(),
        });
        Some(self.locs.len() - 1)
    }

    /// No node or property located (a `.dts` whose annotations could not be
    /// read).
    pub fn is_empty(&self) -> bool {
        self.locs.is_empty()
    }

    /// The files the locations name, in first-seen order.
    pub fn files(&self) -> &[Arc<str>] {
        &self.files
    }

    fn get(&self, i: usize) -> Option<SourceLocation> {
        let l = self.locs.get(i)?;
        Some(SourceLocation {
            file: self.files.get(l.file)?.clone(),
            line: l.line,
            column: l.column,
        })
    }

    /// Where the node at `path` was first defined.
    pub fn node(&self, path: &str) -> Option<SourceLocation> {
        self.get(self.nodes.get(path)?.1?)
    }

    /// Where the property's value was last set (dtc keeps the latest).
    pub fn property(&self, path: &str, name: &str) -> Option<SourceLocation> {
        let &(node, _) = self.nodes.get(path)?;
        self.get(*self.properties.get(&(node, name.to_owned()))?)
    }

    /// Move each column to the name's start in the original line: `read`
    /// gives a file's text (called once per file; `None` leaves its
    /// columns as dtc gave them). Only a window around dtc's column is
    /// searched, so a megabyte line costs no more than a short one.
    pub fn refine_columns(&mut self, mut read: impl FnMut(&str) -> Option<String>) {
        let texts: Vec<Option<(String, Vec<usize>)>> = self
            .files
            .iter()
            .map(|f| {
                read(f).map(|t| {
                    let starts = std::iter::once(0)
                        .chain(t.match_indices('\n').map(|(i, _)| i + 1))
                        .collect();
                    (t, starts)
                })
            })
            .collect();
        for loc in &mut self.locs {
            let Some(Some((text, starts))) = texts.get(loc.file) else {
                continue;
            };
            let Some(&start) = (loc.line as usize)
                .checked_sub(1)
                .and_then(|l| starts.get(l))
            else {
                continue;
            };
            let end = starts
                .get(loc.line as usize)
                .map_or(text.len(), |&e| e.saturating_sub(1));
            let line = &text.as_bytes()[start..end.max(start)];
            if let Some(col) = nearest(line, loc.name.as_bytes(), loc.column as usize) {
                loc.column = col as u32;
            }
        }
    }
}

/// How far from dtc's column a name is looked for, in bytes.
const WINDOW: usize = 512;

/// The 1-based column of the occurrence of `name`, as a whole name, in
/// `line` nearest to `column`, within [`WINDOW`] bytes of it.
fn nearest(line: &[u8], name: &[u8], column: usize) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let at = column.saturating_sub(1).min(line.len());
    let lo = at.saturating_sub(WINDOW);
    let hi = (at + WINDOW).min(line.len());
    let window = line.get(lo..hi)?;
    let whole = |i: usize| {
        let before = i.checked_sub(1).and_then(|b| line.get(b));
        let after = line.get(i + name.len());
        // A root node `/` stands alone; other names are whole words.
        let boundary = |c: Option<&u8>| c.is_none_or(|&c| !name_char(c));
        name == b"/" || (boundary(before) && boundary(after))
    };
    window
        .windows(name.len())
        .enumerate()
        .map(|(i, w)| (lo + i, w))
        .filter(|&(i, w)| w == name && whole(i))
        .map(|(i, _)| i)
        .min_by_key(|&i| i.abs_diff(at))
        .map(|i| i + 1)
}

impl Report {
    /// Attach the locations in `map` to every IOMMU, master, RID host and
    /// diagnostic that names a node (a diagnostic about a property gets
    /// the property's location, else its node's).
    pub fn locate(&mut self, map: &SourceMap) {
        for i in &mut self.iommus {
            i.source = map.node(&i.path);
        }
        for m in &mut self.masters {
            m.source = map.node(&m.path);
        }
        for p in &mut self.pci {
            p.source = map
                .property(&p.host, "iommu-map")
                .or_else(|| map.node(&p.host));
        }
        for d in &mut self.diagnostics {
            let Some(node) = &d.node else {
                continue;
            };
            d.source = d
                .property
                .and_then(|p| map.property(node, p))
                .or_else(|| map.node(node));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANNOTATED: &str = r#"/dts-v1/;

/ { /* soc.dtsi:2:3-15:3, board.dts:6:3-6:38 */
	#address-cells = <0x01>; /* soc.dtsi:3:2-3:23 */
	model = "a /* b"; /* board.dts:6:5-6:17 */

	smmu: iommu@1000 { /* soc.dtsi:5:19-9:4, board.dts:3:7-5:3 */
		#iommu-cells = <0x01>; /* soc.dtsi:8:3-8:22 */
		status = "disabled"; /* board.dts:4:2-4:22 */
		phandle = <0x01>; /* <no-file>:<no-line> */
	}; /* soc.dtsi:5:19-9:4, board.dts:3:7-5:3 */

	bus { /* dir/a-b:c.dtsi:20:6-30:3 */
		lbl: dma@2000 { /* dir/a-b:c.dtsi:21:12-29:4 */
			dma-coherent; /* dir/a-b:c.dtsi:22:4-22:17 */
		}; /* dir/a-b:c.dtsi:21:12-29:4 */
	}; /* dir/a-b:c.dtsi:20:6-30:3 */
}; /* soc.dtsi:2:3-15:3, board.dts:6:3-6:38 */
"#;

    fn at(file: &str, line: u32, column: u32) -> Option<SourceLocation> {
        SourceLocation::at(file, line, column)
    }

    #[test]
    fn nodes_and_properties_map_to_their_first_location() {
        let map = SourceMap::from_annotated(ANNOTATED);
        assert_eq!(map.node("/"), at("soc.dtsi", 2, 3));
        assert_eq!(map.node("/iommu@1000"), at("soc.dtsi", 5, 19));
        assert_eq!(
            map.property("/iommu@1000", "#iommu-cells"),
            at("soc.dtsi", 8, 3)
        );
        // The override's own property is where the override set it.
        assert_eq!(map.property("/iommu@1000", "status"), at("board.dts", 4, 2));
        // A string holding "/*" does not hide the annotation.
        assert_eq!(map.property("/", "model"), at("board.dts", 6, 5));
        // Generated properties have no location.
        assert_eq!(map.property("/iommu@1000", "phandle"), None);
        // File names may hold ':' and '-'; labels are not names.
        assert_eq!(map.node("/bus/dma@2000"), at("dir/a-b:c.dtsi", 21, 12));
        assert_eq!(
            map.property("/bus/dma@2000", "dma-coherent"),
            at("dir/a-b:c.dtsi", 22, 4)
        );
        assert_eq!(map.node("/nosuch"), None);
        assert_eq!(map.files().len(), 3);
    }

    #[test]
    fn columns_move_to_the_name_in_the_original_line() {
        let mut map = SourceMap::from_annotated(ANNOTATED);
        map.refine_columns(|f| match f {
            "soc.dtsi" => Some(
                "#include <x.h>\n/ {\n\t#address-cells = <1>;\n\n\tsmmu: iommu@1000 {\n\n\n\t\t#iommu-cells = <ONE>;\n"
                    .into(),
            ),
            _ => None,
        });
        // dtc points at the brace; the name is where people look.
        assert_eq!(map.node("/iommu@1000"), at("soc.dtsi", 5, 8));
        assert_eq!(map.node("/"), at("soc.dtsi", 2, 1));
        assert_eq!(
            map.property("/iommu@1000", "#iommu-cells"),
            at("soc.dtsi", 8, 3)
        );
        // An unreadable file keeps dtc's columns.
        assert_eq!(map.property("/", "model"), at("board.dts", 6, 5));
    }

    #[test]
    fn the_nearest_whole_name_wins() {
        // `reg` inside `regs` is not a match; the second `reg` is nearer.
        let line = b"regs = <1>; reg = <2>; x = <3>; reg = <4>;";
        assert_eq!(nearest(line, b"reg", 13), Some(13));
        assert_eq!(nearest(line, b"reg", 40), Some(33));
        assert_eq!(nearest(line, b"nosuch", 1), None);
        // Past the end of a short line: still found.
        assert_eq!(nearest(b"  a;", b"a", 90), Some(3));
    }
}

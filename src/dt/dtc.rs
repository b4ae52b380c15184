//! dtc's own warnings as report diagnostics (`dt::W0399`).
//!
//! dtc writes one line per failed check on standard error:
//! `FILE:LINE.COL-LINE.COL: Warning (CHECK): /node/path: text`, or
//! `/node/path:property: text` for a property, with the position
//! `FILE:LINE.COL-COL` on one line, or just the output's name
//! (`<stdout>`) when the check is about no node (`Failed prerequisite
//! …`); a warning about a node defined more than once is followed by
//! `  also defined at POSITION` lines. [`parse`] reads those shapes and
//! keeps any other line whole, unlocated, so nothing dtc says is lost.

use super::report::TreeDiagnostic;
use super::source::{SourceLocation, SourceMap};

/// The code every dtc warning is reported under.
pub const CODE: &str = "dt::W0399";

/// One warning from dtc's standard error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtcWarning {
    /// dtc's check (`unit_address_vs_reg`); `None` for a line of a shape
    /// not recognised, then `text` is that whole line.
    pub check: Option<String>,
    /// The node path and property the warning names, if any.
    pub node: Option<String>,
    pub property: Option<String>,
    /// What dtc says after the check's name, as it says it
    /// (`/soc/x@1000: node has a unit name, but no reg or ranges property`).
    pub text: String,
    /// dtc's own position (the start: line and byte column), when it gave
    /// one.
    pub position: Option<SourceLocation>,
    /// The positions of `also defined at` lines, as dtc wrote them.
    pub also_defined: Vec<String>,
}

/// Every warning in `stderr` (dtc's standard error), in order. Linear in
/// the text; never fails.
pub fn parse(stderr: &str) -> Vec<DtcWarning> {
    let mut out: Vec<DtcWarning> = Vec::new();
    for line in stderr.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let (Some(also), Some(last)) = (
            trimmed.strip_prefix("also defined at "),
            out.last_mut()
                .filter(|_| line.starts_with(char::is_whitespace)),
        ) {
            last.also_defined.push(also.to_owned());
            continue;
        }
        out.push(parse_line(line).unwrap_or_else(|| DtcWarning {
            check: None,
            node: None,
            property: None,
            text: trimmed.to_owned(),
            position: None,
            also_defined: vec![],
        }));
    }
    out
}

/// `POSITION: Warning (CHECK): TEXT` (the position may be absent).
fn parse_line(line: &str) -> Option<DtcWarning> {
    const TAG: &str = "Warning (";
    let at = line
        .match_indices(TAG)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || line[..i].ends_with(": "))?;
    let position = line.get(..at.saturating_sub(2)).and_then(position);
    let rest = &line[at + TAG.len()..];
    let (check, text) = rest.split_once("): ")?;
    if check.is_empty()
        || !check
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let (node, property) = subject(text);
    Some(DtcWarning {
        check: Some(check.to_owned()),
        node,
        property,
        text: text.to_owned(),
        position,
        also_defined: vec![],
    })
}

/// `FILE:LINE.COL[-[LINE.]COL]`: the file and the start. Anything else
/// (`<stdout>`, the output file's name) is no position.
fn position(s: &str) -> Option<SourceLocation> {
    let (file, range) = s.rsplit_once(':')?;
    let start = range.split('-').next()?;
    let (line, column) = start.split_once('.')?;
    let (line, column) = (line.parse().ok()?, column.parse().ok()?);
    (!file.is_empty() && line > 0).then(|| SourceLocation {
        file: file.into(),
        line,
        column,
    })
}

/// The node path and property at the start of a warning's text:
/// `/path: …` or `/path:property: …` (names hold no `:` or space).
fn subject(text: &str) -> (Option<String>, Option<String>) {
    if !text.starts_with('/') {
        return (None, None);
    }
    let Some((path, rest)) = text.split_once(':') else {
        return (None, None);
    };
    if path.contains(char::is_whitespace) {
        return (None, None);
    }
    let property = rest
        .split_once(": ")
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty() && !p.contains(char::is_whitespace));
    (Some(path.to_owned()), property.map(str::to_owned))
}

impl DtcWarning {
    /// The report's diagnostic for this warning, located through `map`
    /// (the property's place, else the node's, as for the report's own
    /// diagnostics) or, failing that, at dtc's own position.
    pub fn diagnostic(&self, map: Option<&SourceMap>) -> TreeDiagnostic {
        let mut message = match &self.check {
            Some(check) => format!("dtc ({check}): {}", self.text),
            None => self.text.clone(),
        };
        if !self.also_defined.is_empty() {
            message.push_str("; also defined at ");
            message.push_str(&self.also_defined.join(", "));
        }
        let from_map = map.zip(self.node.as_deref()).and_then(|(map, node)| {
            self.property
                .as_deref()
                .and_then(|p| map.property(node, p))
                .or_else(|| map.node(node))
        });
        TreeDiagnostic {
            severity: "warning",
            code: CODE,
            message,
            help: self
                .check
                .as_ref()
                .map(|c| format!("dtc's `{c}` check found this, as a kernel build would print it")),
            // Located here, not by `Report::locate` (which would look the
            // node up again, without the property).
            node: None,
            property: None,
            source: from_map.or_else(|| self.position.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dtc 1.6.1's standard error for a tree with these mistakes.
    const STDERR: &str = "\
a.dts:14.9-19: Warning (reg_format): /n/x@1:reg: property has invalid length (4 bytes) (#address-cells == 2, #size-cells == 1)
dir/a-b:c.dtsi:5.16-7.4: Warning (unit_address_vs_reg): /timer@2300000: node has a unit name, but no reg or ranges property
  also defined at a.dts:17.19-40
<stdout>: Warning (pci_device_reg): Failed prerequisite 'reg_format'
Warning (alias_paths): /aliases: aliases property name must include only lowercase and '-'

something dtc has never printed
";

    fn at(file: &str, line: u32, column: u32) -> Option<SourceLocation> {
        SourceLocation::at(file, line, column)
    }

    #[test]
    fn every_shape_dtc_prints_and_unknown_lines_verbatim() {
        let w = parse(STDERR);
        assert_eq!(w.len(), 5, "{w:#?}");
        assert_eq!(w[0].check.as_deref(), Some("reg_format"));
        assert_eq!(w[0].node.as_deref(), Some("/n/x@1"));
        assert_eq!(w[0].property.as_deref(), Some("reg"));
        assert_eq!(w[0].position, at("a.dts", 14, 9));
        assert!(w[0]
            .text
            .starts_with("/n/x@1:reg: property has invalid length"));
        // File names may hold ':' and '-'; a node warning has no property.
        assert_eq!(w[1].position, at("dir/a-b:c.dtsi", 5, 16));
        assert_eq!(w[1].node.as_deref(), Some("/timer@2300000"));
        assert_eq!(w[1].property, None);
        assert_eq!(w[1].also_defined, ["a.dts:17.19-40"]);
        // About no node: no position, no subject.
        assert_eq!(w[2].check.as_deref(), Some("pci_device_reg"));
        assert_eq!((w[2].position.clone(), w[2].node.clone()), (None, None));
        assert_eq!(w[3].node.as_deref(), Some("/aliases"));
        assert_eq!(w[3].property, None);
        // Kept whole.
        assert_eq!(w[4].check, None);
        assert_eq!(w[4].text, "something dtc has never printed");
    }

    #[test]
    fn diagnostics_are_located_through_the_map_else_at_dtcs_position() {
        let w = parse(STDERR);
        let map = SourceMap::from_annotated(
            "/dts-v1/;\n\n/ { /* a.dts:2:3-20:3 */\n\tn { /* a.dts:12:2-15:3 */\n\t\tx@1 { /* a.dts:14:3-14:22 */\n\t\t\treg = <0x01>; /* a.dts:14:9-14:19 */\n\t\t}; /* a.dts:14:3-14:22 */\n\t}; /* a.dts:12:2-15:3 */\n}; /* a.dts:2:3-20:3 */\n",
        );
        let d = w[0].diagnostic(Some(&map));
        assert_eq!((d.severity, d.code), ("warning", CODE));
        assert_eq!(d.source, at("a.dts", 14, 9));
        assert!(
            d.message.starts_with("dtc (reg_format): /n/x@1:reg: "),
            "{}",
            d.message
        );
        assert!(d
            .help
            .as_deref()
            .is_some_and(|h| h.contains("`reg_format`")));
        // Not in the map: dtc's own position; its extra places in the text.
        let d = w[1].diagnostic(Some(&map));
        assert_eq!(d.source, at("dir/a-b:c.dtsi", 5, 16));
        assert!(
            d.message.ends_with("; also defined at a.dts:17.19-40"),
            "{}",
            d.message
        );
        assert_eq!(w[2].diagnostic(None).source, None);
        let d = w[4].diagnostic(None);
        assert_eq!(
            (d.message.as_str(), d.help.clone()),
            ("something dtc has never printed", None)
        );
    }
}

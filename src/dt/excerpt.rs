//! The `.dts` text a located diagnostic points at, for the renderings:
//! the source files read once ([`SourceTexts`]), and each diagnostic's
//! label (the property's or node's name at its `source`) as a byte span of
//! its file, so that `iommugen check`'s renderer (`iommugen_dsl::render`)
//! draws the excerpt and the JSON label. Nothing here draws anything.

use std::collections::HashMap;
use std::sync::Arc;

use iommugen_dsl::render::{Item, SourceFile};
use iommugen_dsl::{Label, Severity};

use super::report::TreeDiagnostic;
use super::source::{name_char, SourceLocation};

/// The text of the files a report is located in (those that could be
/// read as UTF-8; the others get no excerpt).
#[derive(Clone, Debug, Default)]
pub struct SourceTexts {
    files: HashMap<Arc<str>, String>,
}

impl SourceTexts {
    /// No texts: every diagnostic is rendered without an excerpt.
    pub fn new() -> Self {
        Self::default()
    }

    /// `read` each of `files` once (`None`: that file gets no excerpt).
    pub fn read(files: &[Arc<str>], mut read: impl FnMut(&str) -> Option<String>) -> Self {
        let files = files
            .iter()
            .filter_map(|f| read(f).map(|text| (f.clone(), text)))
            .collect();
        SourceTexts { files }
    }

    /// Add (or replace) one file's text.
    pub fn insert(&mut self, file: &str, text: String) {
        self.files.insert(Arc::from(file), text);
    }

    pub fn get(&self, file: &str) -> Option<&str> {
        self.files.get(file).map(String::as_str)
    }
}

/// The texts some diagnostic is located in, prepared for rendering (each
/// line index built once).
pub(crate) struct Prepared<'t> {
    files: HashMap<&'t str, SourceFile<'t>>,
}

impl<'t> Prepared<'t> {
    pub fn new(texts: &'t SourceTexts, diagnostics: &[TreeDiagnostic]) -> Self {
        let mut files = HashMap::new();
        for at in diagnostics.iter().filter_map(|d| d.source.as_ref()) {
            if files.contains_key(&*at.file) {
                continue;
            }
            if let Some((name, text)) = texts.files.get_key_value(&*at.file) {
                files.insert(&**name, SourceFile::new(name, text));
            }
        }
        Prepared { files }
    }

    /// The file `d` is located in and its label there, if `d` is located
    /// and that file was read.
    pub fn label(&self, d: &TreeDiagnostic) -> Option<(&SourceFile<'t>, Label)> {
        let at = d.source.as_ref()?;
        let file = self.files.get(&*at.file)?;
        let span = name_span(file, at)?;
        let text = file.text();
        // What follows the name says what it names: `name {` a node,
        // `name = …;` or `name;` a property.
        let after = text
            .get(span.end..)
            .and_then(|rest| rest.trim_start_matches([' ', '\t']).chars().next());
        let at_brace = text.get(span.start..span.start + 1) == Some("{");
        let what = match after {
            _ if at_brace => "this node",
            Some('{') => "this node",
            Some('=' | ';') => "this property",
            _ => "",
        };
        Some((
            file,
            Label {
                span,
                text: what.into(),
                primary: true,
            },
        ))
    }
}

/// The byte span of the name starting at `at` (1-based line and byte
/// column) in `file`: a node's or property's name, the root's `/`, or one
/// character (dtc's column on a `{`) when no name starts there. `None` when
/// the line is not in the file (it changed since dtc read it).
fn name_span(file: &SourceFile<'_>, at: &SourceLocation) -> Option<std::ops::Range<usize>> {
    let lines = file.lines();
    let line = (at.line as usize).checked_sub(1)?;
    if line >= lines.line_count() {
        return None;
    }
    let range = lines.line_range(line);
    let column = (at.column as usize).saturating_sub(1);
    let start = lines.clamp((range.start + column).min(range.end));
    let text = file.text();
    let rest = text.get(start..range.end).unwrap_or("");
    let name = rest.bytes().take_while(|&b| name_char(b)).count();
    let len = match name {
        0 => rest.chars().next().map_or(0, char::len_utf8),
        n => n,
    };
    Some(start..start + len)
}

/// `d` as the renderer's [`Item`] with `labels`.
pub(crate) fn item<'a>(d: &'a TreeDiagnostic, labels: &'a [Label]) -> Item<'a> {
    Item {
        severity: severity(d),
        code: d.code,
        message: &d.message,
        help: d.help.as_deref(),
        labels,
    }
}

pub(crate) fn severity(d: &TreeDiagnostic) -> Severity {
    if d.severity == "error" {
        Severity::Error
    } else {
        Severity::Warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(file: &str, line: u32, column: u32) -> TreeDiagnostic {
        let mut d = TreeDiagnostic::about("warning", "dt::W0314", "/soc/x", None, "m".into());
        d.source = Some(SourceLocation {
            file: file.into(),
            line,
            column,
        });
        d
    }

    #[test]
    fn labels_cover_the_name_and_say_what_it_names() {
        let mut texts = SourceTexts::new();
        texts.insert(
            "soc.dtsi",
            "/ {\n\tsmmu: iommu@1000 {\n\t\tiommus = <&a 1>;\n\t\tdma-coherent;\n\t};\n};\n".into(),
        );
        let files = Prepared::new(&texts, &[located("soc.dtsi", 1, 1)]);
        let text = texts.get("soc.dtsi").unwrap();
        let label = |line, column| {
            files
                .label(&located("soc.dtsi", line, column))
                .map(|(_, l)| l)
        };
        let l = label(3, 3).unwrap();
        assert_eq!(&text[l.span.clone()], "iommus");
        assert_eq!(l.text, "this property");
        assert!(l.primary);
        let l = label(4, 3).unwrap();
        assert_eq!(&text[l.span.clone()], "dma-coherent");
        assert_eq!(l.text, "this property");
        let l = label(2, 8).unwrap();
        assert_eq!(&text[l.span.clone()], "iommu@1000");
        assert_eq!(l.text, "this node");
        // The root, and dtc's own column on a node's brace.
        let l = label(1, 1).unwrap();
        assert_eq!(&text[l.span.clone()], "/");
        assert_eq!(l.text, "this node");
        let l = label(2, 19).unwrap();
        assert_eq!(&text[l.span.clone()], "{");
        assert_eq!(l.text, "this node");
        // A column past the line's end: an empty label at its end.
        let l = label(3, 400).unwrap();
        assert!(l.span.is_empty());
        // No such line, no such file, not located: no label.
        assert!(label(99, 1).is_none());
        assert!(label(0, 1).is_none());
        assert!(files.label(&located("other.dtsi", 1, 1)).is_none());
        let mut d = located("soc.dtsi", 1, 1);
        d.source = None;
        assert!(files.label(&d).is_none());
    }
}

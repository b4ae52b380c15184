//! One line per diagnostic, `FILE:LINE:COLUMN: SEVERITY[CODE]: MESSAGE`:
//! the shape compilers print, so Vim's quickfix (`errorformat`), Emacs's
//! compilation mode and most CI log scanners jump to it unchanged.

use super::{shorten, SourceFile};
use crate::diag::Diagnostic;

impl SourceFile<'_> {
    /// `diag` on one line at its primary label (the first label when none
    /// is primary; line 1, column 1 when it has none). The column counts
    /// characters from 1, as the human and JSON reports do. Line breaks in
    /// the message become spaces and very long words are shortened, so one
    /// diagnostic is always one line.
    pub fn short(&self, diag: &Diagnostic) -> String {
        let at = diag
            .labels
            .iter()
            .find(|l| l.primary)
            .or(diag.labels.first())
            .map_or(0, |l| l.span.start);
        let (line, col) = self.line_col(at);
        let message: String = shorten(&diag.message)
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        format!(
            "{}:{line}:{col}: {}[{}]: {message}",
            self.name(),
            diag.severity.as_str(),
            diag.code
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Label};

    #[test]
    fn one_line_at_the_primary_label() {
        let src = "driver d {\n  cellz 1;\n}\n";
        let f = SourceFile::new("a.iommu", src);
        let start = src.find("cellz").unwrap();
        let mut d = Diagnostic::new(
            Code::UnknownField,
            "unknown statement `cellz`\nsecond line",
            start..start + 5,
            "here",
        );
        d.labels.insert(
            0,
            Label {
                span: 0..6,
                text: "in this driver".into(),
                primary: false,
            },
        );
        let line = f.short(&d);
        assert_eq!(
            line,
            format!(
                "a.iommu:2:3: error[{}]: unknown statement `cellz` second line",
                Code::UnknownField
            )
        );
        // A 200,000-character word stays one short line.
        let long = "x".repeat(200_000);
        let d = Diagnostic::new(Code::UnknownField, long, 0..1, "");
        let line = f.short(&d);
        assert!(line.len() < 400 && !line.contains('\n'), "{}", line.len());
        assert!(line.starts_with("a.iommu:1:1: error["));
    }
}

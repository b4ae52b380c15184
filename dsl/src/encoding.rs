//! A spec file's bytes to text: UTF-8, with an optional byte-order mark.
//!
//! The front ends (CLI, build scripts, `include_spec!`) read files as bytes
//! and decode them here, so a file that is not UTF-8 gets a located
//! diagnostic like any other problem rather than an I/O error.

use crate::diag::{Code, Diagnostic};

/// The UTF-8 encoding of U+FEFF, which some editors put at the start.
pub const BOM: &str = "\u{feff}";

/// The text of a spec file, ready for [`crate::check_source`] and the
/// renderers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The file without its byte-order mark (spans and columns are those an
    /// editor shows). When `error` is set: the valid text up to the first
    /// bad byte is verbatim, the rest has U+FFFD for each bad sequence (for
    /// rendering the error only; do not check it).
    pub text: String,
    /// The file is not UTF-8: an [`Code::InvalidUtf8`] error on the first
    /// bad byte.
    pub error: Option<Diagnostic>,
}

/// Decodes a spec file. Never fails: invalid UTF-8 becomes `error`.
pub fn decode(mut bytes: Vec<u8>) -> Decoded {
    if bytes.starts_with(BOM.as_bytes()) {
        bytes.drain(..BOM.len());
    }
    match String::from_utf8(bytes) {
        Ok(text) => Decoded { text, error: None },
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bad = e.as_bytes().get(at).copied().unwrap_or(0);
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let (line, column) = line_column(&text[..at]);
            // The bad bytes read as one U+FFFD in `text`.
            let span = at..at + char::REPLACEMENT_CHARACTER.len_utf8();
            let error = Diagnostic::new(
                Code::InvalidUtf8,
                format!(
                    "spec file is not valid UTF-8: byte 0x{bad:02x} at line {line}, column {column}"
                ),
                span,
                "not UTF-8",
            )
            .help("save the file as UTF-8; outside strings and comments the language is ASCII");
            Decoded {
                text,
                error: Some(error),
            }
        }
    }
}

/// One result per file, as [`crate::check_sources`] gives them.
pub type CheckedFiles = Vec<(usize, crate::Checked)>;

/// Each file's (name, decoded text), in the order given.
pub type Texts = Vec<(String, String)>;

/// Per file: its index and its diagnostics.
pub type DiagnosedFiles = Vec<(usize, Vec<Diagnostic>)>;

/// [`crate::check_sources`] on files as read: each is decoded first, and
/// one that is not UTF-8 is not checked but reports only its
/// [`Code::InvalidUtf8`] error. Returns the texts, for rendering, and one
/// result per file in input order.
pub fn check_files(files: Vec<(String, Vec<u8>)>) -> (Texts, CheckedFiles) {
    let (texts, results) = with_decoded(files, crate::check_sources);
    let results = results
        .into_iter()
        .map(|(i, checked, error)| match error {
            Some(error) => (
                i,
                crate::Checked {
                    spec: None,
                    diagnostics: vec![error],
                },
            ),
            None => (i, checked),
        })
        .collect();
    (texts, results)
}

/// [`check_files`] keeping only diagnostics (no IR), as `iommugen check`
/// wants for large inputs.
pub fn diagnose_files(files: Vec<(String, Vec<u8>)>) -> (Texts, DiagnosedFiles) {
    let (texts, results) = with_decoded(files, crate::diagnose_sources);
    let results = results
        .into_iter()
        .map(|(i, diagnostics, error)| (i, error.map_or(diagnostics, |e| vec![e])))
        .collect();
    (texts, results)
}

/// Decodes every file and runs `check` over the texts, an undecodable file
/// checked as empty (its text is set aside, not copied, and put back after),
/// pairing each result with that file's decoding error.
fn with_decoded<T>(
    files: Vec<(String, Vec<u8>)>,
    check: impl FnOnce(&[(String, String)]) -> Vec<(usize, T)>,
) -> (Texts, Vec<(usize, T, Option<Diagnostic>)>) {
    let mut texts = Vec::with_capacity(files.len());
    let mut errors = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let decoded = decode(bytes);
        errors.push(decoded.error);
        texts.push((name, decoded.text));
    }
    let mut set_aside = Vec::new();
    for (i, error) in errors.iter().enumerate() {
        if error.is_some() {
            set_aside.push((i, std::mem::take(&mut texts[i].1)));
        }
    }
    let results = check(&texts);
    for (i, text) in set_aside {
        texts[i].1 = text;
    }
    let results = results
        .into_iter()
        .map(|(i, r)| (i, r, errors.get_mut(i).and_then(Option::take)))
        .collect();
    (texts, results)
}

/// 1-based line and column (in characters) just past `before`.
fn line_column(before: &str) -> (usize, usize) {
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Where the text proper starts: after a byte-order mark, if any. The
/// parser skips it, so text decoded some other way checks the same.
pub(crate) fn text_start(source: &str) -> usize {
    if source.starts_with(BOM) {
        BOM.len()
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_byte_is_located_by_line_and_column() {
        let d = decode(b"driver d {\n  \xc3\xa9 \xff\xfe x\n".to_vec());
        let e = d.error.unwrap();
        assert_eq!(e.code, Code::InvalidUtf8);
        assert!(
            e.message.contains("byte 0xff at line 2, column 5"),
            "{}",
            e.message
        );
        let span = e.primary_span().unwrap();
        assert_eq!(&d.text[span], "\u{fffd}");
    }

    #[test]
    fn a_bom_is_dropped_and_valid_text_kept() {
        let d = decode(b"\xef\xbb\xbfdriver".to_vec());
        assert_eq!(
            d,
            Decoded {
                text: "driver".into(),
                error: None
            }
        );
    }
}

//! Editor-neutral answers for a language server: where things are in a
//! spec, what a word means, what may be typed next, how to fix a
//! diagnostic. Everything here works on byte offsets into one source and
//! calls the same parser and checker as `iommugen check`; the protocol
//! (JSON-RPC, UTF-16 positions on the wire) lives in the CLI's
//! `src/cmd/lsp/`. [`position`] converts offsets to editor positions.
//!
//! One module per job: [`outline`] (document symbols), [`folding`],
//! [`hover`], [`navigate`] (definition and references of fields),
//! [`complete`], [`actions`] (quick fixes for diagnostics); [`words`] holds
//! what each keyword means.

pub mod actions;
pub mod complete;
pub mod folding;
pub mod hover;
pub mod navigate;
pub mod outline;
pub mod position;
pub mod recheck;
pub mod words;

use crate::ast::{DriverAst, SpecAst};

/// The driver whose text holds `offset` (its end included, so a cursor
/// just after `}` still sees it).
pub(crate) fn driver_at(spec: &SpecAst, offset: usize) -> Option<&DriverAst> {
    let i = spec.drivers.partition_point(|d| d.span.end < offset);
    spec.drivers
        .get(i)
        .filter(|d| d.span.start <= offset && offset <= d.span.end)
}

/// Whether `offset` lies in `span` (its end included: a cursor right after
/// a name is on it).
pub(crate) fn touches(span: &core::ops::Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

/// The word under `offset`: a run of letters, digits, `_` and, if
/// `dashed`, `-` (`page-table`, `arm-lpae-s1`). Looks at most 256 bytes
/// each way, so a megabyte line costs no more than a short one.
pub(crate) fn word_at(
    source: &str,
    offset: usize,
    dashed: bool,
) -> Option<(core::ops::Range<usize>, &str)> {
    let bytes = source.as_bytes();
    let part = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || (dashed && b == b'-');
    let offset = offset.min(bytes.len());
    let mut start = offset;
    while start > 0 && offset - start < 256 && part(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < bytes.len() && end - offset < 256 && part(bytes[end]) {
        end += 1;
    }
    // Dashes at the ends belong to operators, not the word.
    while dashed && start < end && bytes[start] == b'-' {
        start += 1;
    }
    while dashed && end > start && bytes[end - 1] == b'-' {
        end -= 1;
    }
    let word = source.get(start..end)?;
    (!word.is_empty()).then_some((start..end, word))
}

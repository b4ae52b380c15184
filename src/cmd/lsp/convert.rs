//! The dsl's values in the protocol's terms: byte spans to UTF-16 ranges
//! (through [`iommugen_dsl::ide::position`]), diagnostics, symbols.

use iommugen_dsl::ide::folding::FoldKind;
use iommugen_dsl::ide::outline::{Symbol, SymbolKind};
use iommugen_dsl::ide::position::{Position as At, Positions};
use iommugen_dsl::{Diagnostic, Severity};
use lsp_types as lsp;

/// A byte offset as a protocol position.
pub fn position(lines: &Positions<'_>, offset: usize) -> lsp::Position {
    let At { line, column } = lines.position(offset);
    lsp::Position::new(line, column)
}

/// A byte span as a protocol range (an end before the start is the start).
pub fn range(lines: &Positions<'_>, span: &core::ops::Range<usize>) -> lsp::Range {
    lsp::Range::new(
        position(lines, span.start),
        position(lines, span.end.max(span.start)),
    )
}

/// A protocol position as a byte offset (clamped; see [`Positions::offset`]).
pub fn offset(lines: &Positions<'_>, at: lsp::Position) -> usize {
    lines.offset(At {
        line: at.line,
        column: at.character,
    })
}

/// A protocol range as a byte span, its ends in order.
pub fn span(lines: &Positions<'_>, r: lsp::Range) -> core::ops::Range<usize> {
    let (a, b) = (offset(lines, r.start), offset(lines, r.end));
    a.min(b)..a.max(b)
}

/// One diagnostic as `iommugen check` reports it: the same code,
/// severity and message, the help on a line of its own after the message
/// (the protocol has no place for it; `data.help` holds it alone), the
/// primary label's span as the range and the secondary labels as related
/// information.
pub fn diagnostic(uri: &lsp::Url, lines: &Positions<'_>, d: &Diagnostic) -> lsp::Diagnostic {
    let primary = d.primary_span().unwrap_or(0..0);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .map(|l| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(uri.clone(), range(lines, &l.span)),
            message: if l.text.is_empty() {
                "here".to_owned()
            } else {
                l.text.clone()
            },
        })
        .collect();
    let label = d.labels.iter().find(|l| l.primary).map(|l| l.text.clone());
    lsp::Diagnostic {
        range: range(lines, &primary),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_owned())),
        code_description: None,
        source: Some("iommugen".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(serde_json::json!({ "help": d.help, "label": label })),
    }
}

/// A document symbol and its children (nested by the outline).
pub fn symbol(lines: &Positions<'_>, s: &Symbol) -> lsp::DocumentSymbol {
    #[allow(deprecated)] // `deprecated` is a required field of the type
    lsp::DocumentSymbol {
        name: s.name.clone(),
        detail: s.detail.clone(),
        kind: match s.kind {
            SymbolKind::Driver => lsp::SymbolKind::STRUCT,
            SymbolKind::Field => lsp::SymbolKind::FIELD,
            SymbolKind::Block => lsp::SymbolKind::NAMESPACE,
            SymbolKind::Statement => lsp::SymbolKind::PROPERTY,
        },
        tags: None,
        deprecated: None,
        range: range(lines, &s.span),
        selection_range: range(lines, &s.selection),
        children: (!s.children.is_empty())
            .then(|| s.children.iter().map(|c| symbol(lines, c)).collect()),
    }
}

/// A folding range by lines; `None` for a span on one line.
pub fn folding(
    lines: &Positions<'_>,
    span: &core::ops::Range<usize>,
    kind: FoldKind,
) -> Option<lsp::FoldingRange> {
    let (start, end) = (
        lines.position(span.start).line,
        lines.position(span.end).line,
    );
    (start < end).then_some(lsp::FoldingRange {
        start_line: start,
        start_character: None,
        end_line: end,
        end_character: None,
        kind: Some(match kind {
            FoldKind::Region => lsp::FoldingRangeKind::Region,
            FoldKind::Comment => lsp::FoldingRangeKind::Comment,
        }),
        collapsed_text: None,
    })
}

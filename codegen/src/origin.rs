//! Where generated items came from, for their `///` docs.

use iommugen_dsl::ir::Span;
use iommugen_dsl::lines::LineIndex;
use iommugen_dsl::render::line_col;

/// The source a checked spec was read from.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// A `.iommu` file: docs name `file:line`.
    Spec {
        /// The name to print (as given to the generator).
        file: &'a str,
        /// Its text, to turn byte spans into line numbers.
        source: &'a str,
    },
    /// The `#[iommu_driver]` attribute on a Rust type: docs name the type.
    Attribute {
        /// The annotated type's name.
        type_name: &'a str,
    },
}

impl Origin<'_> {
    /// `` `drivers.iommu:12` `` or `` the `#[iommu_driver]` attribute of `Smmu` ``.
    /// Counts lines from the start of the source: for many spans, the
    /// generator uses a `Locator`.
    pub fn at(&self, span: &Span) -> String {
        match self {
            Origin::Spec { file, source } => {
                let (line, _) = line_col(source, span.start);
                format!("`{file}:{line}`")
            }
            Origin::Attribute { type_name } => {
                format!("the `#[iommu_driver]` attribute of `{type_name}`")
            }
        }
    }
}

/// An [`Origin`] ready for many look-ups: a `.iommu` source's lines are
/// indexed once. Counting from byte 0 for every span made generating
/// 10,000 drivers take a minute (four spans per driver).
pub(crate) struct Locator<'a> {
    origin: Origin<'a>,
    lines: Option<LineIndex<'a>>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(origin: &Origin<'a>) -> Self {
        let lines = match origin {
            Origin::Spec { source, .. } => Some(LineIndex::new(source)),
            Origin::Attribute { .. } => None,
        };
        Locator {
            origin: *origin,
            lines,
        }
    }

    /// The same text as [`Origin::at`].
    pub(crate) fn at(&self, span: &Span) -> String {
        match (&self.origin, &self.lines) {
            (Origin::Spec { file, .. }, Some(lines)) => {
                format!("`{file}:{}`", lines.line_of(span.start) + 1)
            }
            (origin, _) => origin.at(span),
        }
    }
}

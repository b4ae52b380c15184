//! Where generated items came from, for their `///` docs.

use iommugen_dsl::ir::Span;
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

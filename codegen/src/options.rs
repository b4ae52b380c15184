//! Choices a user makes about the generated code.

/// Options shared by the CLI, the build-script [`Builder`](crate::Builder)
/// and the macros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The path through which generated code reaches the runtime; change it
    /// when the runtime crate is renamed or re-exported (e.g.
    /// `::iommugen::runtime`).
    pub runtime: String,
    /// Also register every declaration in the runtime's cross-crate linker
    /// section (`decl::IOMMU_DECLARATIONS`), not only in the module's static
    /// `DECLARATIONS` slice.
    pub register: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime: "::iommugen_runtime".to_owned(),
            register: false,
        }
    }
}

//! iommugen for kernels: the `no_std` runtime and the code-generating macros
//! under one dependency.
//!
//! ```toml
//! [dependencies]
//! iommugen = { version = "0.1", default-features = false }
//! ```
//!
//! ```ignore
//! // Generated from a spec file next to Cargo.toml: `pub mod drivers { .. }`.
//! iommugen::include_spec!("drivers.iommu");
//!
//! // Or written in Rust:
//! #[iommugen::iommu_driver(runtime: ::iommugen::runtime, compatible: ["arm,smmu-v3"], ..)]
//! pub struct SmmuV3;
//! ```
//!
//! Generated code reaches the runtime through `::iommugen::runtime` when it
//! comes through this crate's [`include_spec!`]; `#[iommu_driver]` needs
//! `runtime: ::iommugen::runtime` among its arguments (an attribute cannot
//! see which crate name it was called through). The default `cli` feature
//! builds the `iommugen` command-line tool and the host-side library it is
//! a thin front end to ([`dt`]: the boot flow's report on a device tree);
//! kernels turn it off and get a `no_std` crate.
#![cfg_attr(not(feature = "cli"), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "cli")]
pub mod dt;

/// `iommugen lsp`, the language server (its protocol glue lives with the
/// other commands, in `src/cmd/lsp/`).
#[cfg(feature = "cli")]
#[path = "cmd/lsp/mod.rs"]
pub mod lsp;

pub use iommugen_macros::iommu_driver;
pub use iommugen_runtime as runtime;

#[doc(hidden)]
pub use iommugen_macros as __macros;

/// Reads a `.iommu` spec at compile time (path relative to the calling
/// crate's `Cargo.toml`) and expands to its generated module, reaching the
/// runtime through `::iommugen::runtime`. Options as for
/// `iommugen_macros::include_spec!` (`register`, `runtime = ::path`).
#[macro_export]
macro_rules! include_spec {
    ($file:literal $(,)?) => {
        $crate::__macros::include_spec!($file, runtime = ::iommugen::runtime);
    };
    ($file:literal, $($option:tt)+) => {
        $crate::__macros::include_spec!($file, runtime = ::iommugen::runtime, $($option)+);
    };
}

/// A static declaration table from driver types (one row per compatible),
/// reaching the runtime through `::iommugen::runtime`; see
/// `iommugen_macros::iommu_table!`.
#[macro_export]
macro_rules! iommu_table {
    ($(#[$meta:meta])* $vis:vis static $name:ident = [$($ty:path),* $(,)?] $(,)?) => {
        $crate::__macros::iommu_table!(
            $(#[$meta])* $vis static $name = [$($ty),*], runtime = ::iommugen::runtime
        );
    };
}

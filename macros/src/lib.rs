//! `#[iommu_driver(...)]` and `include_spec!`: iommugen's generator from
//! Rust source.
//!
//! Both run the DSL's own parser and checker, then the same generator as
//! `iommugen generate`, so errors and generated code match the `.iommu`
//! route. See the book chapter "The attribute".
//!
//! ```ignore
//! /// Arm SMMUv3: one cell, the StreamID.
//! #[iommugen_macros::iommu_driver(
//!     compatible: ["arm,smmu-v3"],
//!     cells: 1,
//!     field stream_id: u32 = cell[0],
//!     check: stream_id < 1 << 20,
//!     id: stream_id,
//!     pci: iommu_map,
//!     page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M, 1G], coherent_walk, pool: 256 },
//!     init: crate::smmu::probe,
//! )]
//! pub struct SmmuV3;
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod errors;
mod include;
mod lower;
mod synth;
mod table;

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;

/// Declares an IOMMU driver on a unit struct, from arguments that mirror the
/// DSL statements:
///
/// | argument | DSL |
/// |---|---|
/// | `compatible: ["a", "b"]` | `compatible "a", "b";` |
/// | `cells: 1 \| 2` | `cells 1 \| 2;` |
/// | `field NAME: uN = SOURCE else ..` | `field NAME: uN = SOURCE else ..;` (`property("p")` or `property "p"`; `master property("p")` for the master's node) |
/// | `check: EXPR` | `check EXPR;` |
/// | `id: EXPR` | `id = EXPR;` |
/// | `pci: iommu_map` | `pci iommu-map;` |
/// | `contexts: 8 reserved 1` | `contexts 8 reserved 1;` |
/// | `master: one_instance` | `master one instance;` |
/// | `master: same(larb)` | `master same larb;` |
/// | `allow_masters: ["ee100000.mmc", ..]` | `allow masters "ee100000.mmc", ..;` |
/// | `deny_soc: ["renesas,r8a7796", "renesas,r8a7795" revision "ES2.*"]` | `deny soc "renesas,r8a7796", "renesas,r8a7795" revision "ES2.*";` |
/// | `page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M], coherent_walk, pool: 64 }` | `page-table arm-lpae-s1 { .. }` |
/// | `dma: { domain: per_device, aperture: A..B }` | `dma { .. }` |
/// | `dma: { group: drm where swgroup == 1, default: identity }` | `group drm where ..; default identity;` |
/// | `init: crate::path::probe` | `init crate::path::probe;` |
///
/// and two that are Rust-only: `name: snake_name` (default: the type's name
/// in snake case) and `runtime: ::path` (default `::iommugen_runtime`).
/// The struct's `///` docs become the driver's docs. The type gets the
/// generated `IommuDriver` impl, constants (`NAME`, `COMPATIBLES`, `CELLS`,
/// `INFO`), `page_table()`, the `<Type>Format`/`<Type>Pool`/`<Type>PageTable`
/// items and the `<TYPE>_POOL` static, and one row per compatible in the
/// runtime's cross-crate `IOMMU_DECLARATIONS` table.
#[proc_macro_attribute]
pub fn iommu_driver(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.into();
    match expand_driver(args.into(), item2.clone()) {
        Ok(out) => out.into(),
        Err(errors) => {
            // Keep the struct so the crate's other uses of it do not add
            // unrelated errors.
            let errors = errors.to_compile_error();
            quote!(#item2 #errors).into()
        }
    }
}

fn expand_driver(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> Result<proc_macro2::TokenStream, syn::Error> {
    let strukt: syn::ItemStruct = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[iommu_driver] goes on a unit struct, e.g. `pub struct SmmuV3;`",
        )
    })?;
    if !matches!(strukt.fields, syn::Fields::Unit) || !strukt.generics.params.is_empty() {
        return Err(syn::Error::new(
            strukt.ident.span(),
            "#[iommu_driver] needs a unit struct without generics (`pub struct SmmuV3;`): \
             the declaration table refers to the driver as `&SmmuV3`",
        ));
    }
    let docs = doc_lines(&strukt.attrs);
    let (synth, extra) = lower::lower(args, &strukt.ident, &docs)?;
    let checked = iommugen_dsl::check_source("#[iommu_driver]", &synth.text);
    let spec = match checked.spec {
        Some(spec) if !checked.has_errors() => spec,
        _ => return Err(errors::combine(&checked.diagnostics, &synth)),
    };
    let Some(driver) = spec.drivers.first() else {
        return Err(syn::Error::new(Span::call_site(), "no driver produced"));
    };
    let mut options = iommugen_codegen::Options::default();
    if let Some(runtime) = extra.runtime {
        options.runtime = runtime;
    }
    let items = iommugen_codegen::attribute_items(driver, &strukt.ident, &options);
    let warnings = errors::warnings(&checked.diagnostics, &synth);
    Ok(quote! {
        #strukt
        #items
        #warnings
    })
}

/// The struct's `///` lines (each `#[doc = ".."]`), with their spans.
fn doc_lines(attrs: &[syn::Attribute]) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                for line in s.value().lines() {
                    out.push((line.to_owned(), s.span()));
                }
            }
        }
    }
    out
}

/// Reads a `.iommu` file at compile time (path relative to the crate's
/// `Cargo.toml`) and expands to its generated module, `pub mod <stem>`, as
/// `iommugen generate` would write it. Spec errors are compile errors that
/// name the file and line. Optional arguments: `runtime = ::path`,
/// `register` (also register in the cross-crate declaration table).
///
/// ```ignore
/// iommugen_macros::include_spec!("drivers.iommu");
/// static TABLES: &[&[Declaration<'static>]] = &[drivers::DECLARATIONS];
/// ```
#[proc_macro]
pub fn include_spec(input: TokenStream) -> TokenStream {
    match include::expand(input.into()) {
        Ok(out) => out.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// A static declaration table (seed step 1's `IOMMU_OF_DECLARE` list) from
/// driver types, one row per compatible of each, in order, in the spirit of
/// Rust-for-Linux's `of_device_table!`. Works for `#[iommu_driver]` types
/// and for generated ones (both have `COMPATIBLES`), and needs no linker
/// section, so it suits linker scripts that do not keep linkme's.
///
/// ```ignore
/// iommugen_macros::iommu_table!(pub static DRIVERS = [SmmuV3, drivers::ArmSmmu]);
/// // with a renamed runtime:
/// iommugen_macros::iommu_table!(static DRIVERS = [SmmuV3], runtime = ::iommugen::runtime);
/// ```
#[proc_macro]
pub fn iommu_table(input: TokenStream) -> TokenStream {
    match table::expand(input.into()) {
        Ok(out) => out.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

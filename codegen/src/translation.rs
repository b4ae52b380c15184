//! A driver's translation items: for a `page-table` block its format type,
//! static table pool and engine alias; for a `requests` block the domain
//! type that sends map/unmap requests through the runtime's
//! `requests::RequestQueue`.

use iommugen_dsl::ir::{self, Driver, HostRequests, PageTable};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::driver::ItemNames;
use crate::names::ident;
use crate::origin::Locator;

/// The items for `driver`'s translation.
pub fn items(
    driver: &Driver,
    names: &ItemNames,
    origin: &Locator,
    rt: &TokenStream,
) -> TokenStream {
    match &driver.translation {
        ir::Translation::Tables(pt) => tables(driver, pt, names, origin, rt),
        ir::Translation::Requests(r) => requests(driver, r, names, origin, rt),
    }
}

fn tables(
    driver: &Driver,
    pt: &PageTable,
    names: &ItemNames,
    origin: &Locator,
    rt: &TokenStream,
) -> TokenStream {
    let ItemNames {
        ty,
        format,
        pool_ty,
        pool,
        page_table,
        ..
    } = names;
    let name = &driver.name;
    let at_pt = origin.at(&pt.span);
    let doc_new = format!(
        " An empty page table of this driver's format with tables from [`{pool}`] (from {at_pt}); fails only when the pool is exhausted."
    );
    let pool_tables = Literal::usize_unsuffixed(pt.pool_tables as usize);
    let size_text = pt
        .page_sizes
        .iter()
        .map(|&s| size_name(s))
        .collect::<Vec<_>>()
        .join(", ");
    let coherent = pt.coherent_walk;
    let walk = if coherent { ", coherent walk" } else { "" };
    let (format_item, table_mem, what) = match pt.format {
        ir::Format::ArmLpaeS1 | ir::Format::ArmLpaeS2 => {
            let (stage, stage_text) = match pt.format {
                ir::Format::ArmLpaeS2 => ("Two", "stage 2"),
                _ => ("One", "stage 1"),
            };
            let stage = ident(stage);
            let granule_shift = Literal::u32_unsuffixed(pt.granule.shift());
            let ias = Literal::u32_unsuffixed(u32::from(pt.ias));
            let oas = Literal::u32_unsuffixed(u32::from(pt.oas));
            let sizes = page_sizes(&pt.page_sizes);
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): Arm VMSAv8-64 long descriptors, {stage_text}, {} granule, {}-bit IAS, {}-bit OAS, mappings of {size_text}{walk}.",
                size_name(pt.granule.bytes()),
                pt.ias,
                pt.oas,
            );
            let item = quote! {
                #[doc = #doc]
                #[derive(Clone, Copy, Debug, Default)]
                pub struct #format;

                impl #rt::pgtable::LpaeFormat for #format {
                    const STAGE: #rt::pgtable::Stage = #rt::pgtable::Stage::#stage;
                    const GRANULE_SHIFT: u32 = #granule_shift;
                    const IAS: u32 = #ias;
                    const OAS: u32 = #oas;
                    const PAGE_SIZES: u64 = #sizes;
                    const COHERENT_WALK: bool = #coherent;
                }
            };
            let mem = ident(match pt.granule {
                ir::Granule::K4 => "Table4K",
                ir::Granule::K16 => "Table16K",
                ir::Granule::K64 => "Table64K",
            });
            (
                item,
                quote!(#rt::pgtable::#mem),
                size_name(pt.granule.bytes()),
            )
        }
        ir::Format::ArmV7s { mtk_ext } => {
            let sizes = page_sizes(&pt.page_sizes);
            let ext = if mtk_ext {
                ", MediaTek PA bits 32-34 in leaves (no permission bits)"
            } else {
                ""
            };
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): ARMv7 short descriptors, {}-bit IOVA, {}-bit OAS, mappings of {size_text}{ext}{walk}.",
                pt.ias, pt.oas
            );
            // The 32-bit default stays implicit, so existing output is unchanged.
            let item = if pt.ias == 32 {
                quote! {
                    #[doc = #doc]
                    pub type #format = #rt::pgtable::ArmV7s<#mtk_ext, { #sizes }, #coherent>;
                }
            } else {
                let ias = Literal::u32_unsuffixed(u32::from(pt.ias));
                quote! {
                    #[doc = #doc]
                    pub type #format = #rt::pgtable::ArmV7s<#mtk_ext, { #sizes }, #coherent, #ias>;
                }
            };
            // Slots are second-level tables; the 16K first level takes 16.
            (item, quote!(#rt::pgtable::Table1K), "1K".to_owned())
        }
        ir::Format::AppleDart { generation } => {
            let gen = Literal::u8_unsuffixed(generation.number());
            let ias = Literal::u32_unsuffixed(u32::from(pt.ias));
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): Apple DART{} (`{}`), two levels of 64-bit entries, 16K pages, {}-bit IOVA, {}-bit OAS, coherent walk.",
                generation.number(),
                generation.dsl_name(),
                pt.ias,
                pt.oas,
            );
            let item = quote! {
                #[doc = #doc]
                pub type #format = #rt::pgtable::AppleDart<#gen, #ias>;
            };
            (item, quote!(#rt::pgtable::Table16K), "16K".to_owned())
        }
        ir::Format::Rockchip { version } => {
            let version_lit = Literal::u32_unsuffixed(u32::from(version));
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): Rockchip IOMMU v{version}, a directory and page tables of 32-bit entries, 4K pages, 32-bit IOVA, {}-bit OAS{walk}.",
                pt.oas,
            );
            let item = quote! {
                #[doc = #doc]
                pub type #format = #rt::pgtable::Rockchip<#version_lit, #coherent>;
            };
            (item, quote!(#rt::pgtable::Table4K), "4K".to_owned())
        }
        ir::Format::ExynosSysmmu { version } => {
            let version_lit = Literal::u32_unsuffixed(u32::from(version));
            let sizes = page_sizes(&pt.page_sizes);
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): Samsung Exynos SysMMU v{version}, two levels of 32-bit entries, 32-bit IOVA, {}-bit OAS, mappings of {size_text}{walk}.",
                pt.oas,
            );
            let item = quote! {
                #[doc = #doc]
                pub type #format = #rt::pgtable::Exynos<#version_lit, #coherent, { #sizes }>;
            };
            // Slots are second-level tables; the 16K first level takes 16.
            (item, quote!(#rt::pgtable::Table1K), "1K".to_owned())
        }
        ir::Format::Sun50i => {
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): Allwinner sun50i IOMMU, a directory and page tables of 32-bit entries, 4K pages, 32-bit IOVA and PA{walk}.",
            );
            let item = quote! {
                #[doc = #doc]
                pub type #format = #rt::pgtable::Sun50i<#coherent>;
            };
            // Slots are page tables; the 16K directory takes 16.
            (item, quote!(#rt::pgtable::Table1K), "1K".to_owned())
        }
        ir::Format::TegraSmmu { generation } => {
            let bits = Literal::u32_unsuffixed(u32::from(generation.pa_bits()));
            let doc = format!(
                " Page-table format of `{name}` (from {at_pt}): NVIDIA Tegra SMMU (`{}`), a page directory and page tables of 32-bit entries, 4K pages, 32-bit IOVA, {}-bit PA{walk}.",
                generation.dsl_name(),
                pt.oas,
            );
            let item = quote! {
                #[doc = #doc]
                pub type #format = #rt::pgtable::TegraSmmu<#bits, #coherent>;
            };
            (item, quote!(#rt::pgtable::Table4K), "4K".to_owned())
        }
    };
    let doc_pool_ty = format!(
        " The static pool type of `{name}`: {} tables of {what} (from {at_pt}).",
        pt.pool_tables,
    );
    let doc_pool =
        format!(" The table pool every `{name}` page table takes its tables from (from {at_pt}).");
    let doc_pt = format!(
        " The page-table engine specialised for `{name}` (from {at_pt}); `T` does the TLB maintenance."
    );
    quote! {
        impl #ty {
            #[doc = #doc_new]
            pub fn page_table<T: #rt::pgtable::TlbOps>(
                tlb: T,
            ) -> Result<#page_table<T>, #rt::pgtable::MapError> {
                #rt::pgtable::PageTable::new(&#pool, tlb)
            }
        }

        #format_item

        #[doc = #doc_pool_ty]
        pub type #pool_ty = #rt::pgtable::StaticPool<#table_mem, #pool_tables>;

        #[doc = #doc_pool]
        pub static #pool: #pool_ty = #pool_ty::new();

        #[doc = #doc_pt]
        pub type #page_table<T> = #rt::pgtable::PageTable<#format, &'static #pool_ty, T>;
    }
}

fn requests(
    driver: &Driver,
    r: &HostRequests,
    names: &ItemNames,
    origin: &Locator,
    rt: &TokenStream,
) -> TokenStream {
    let ItemNames { ty, domain, .. } = names;
    let name = &driver.name;
    let at = origin.at(&r.span);
    let protocol = match r.protocol {
        ir::Protocol::VirtioIommu => "virtio-iommu MAP/UNMAP requests",
    };
    let sizes = r
        .page_sizes
        .iter()
        .map(|&s| size_name(s))
        .collect::<Vec<_>>()
        .join(", ");
    let doc_domain = format!(
        " A `{name}` domain (from {at}): the host keeps the tables; each map and unmap is one of {protocol}, {} pages, {}-bit IOVA, mappings of {sizes}. `Q` is the driver's request queue.",
        size_name(r.granule.bytes()),
        r.ias,
    );
    let doc_new = format!(
        " A [`{domain}`] sending its requests through `queue` as the device's domain `id` (from {at})."
    );
    let granule_shift = Literal::u32_unsuffixed(r.granule.shift());
    let ias = Literal::u32_unsuffixed(u32::from(r.ias));
    quote! {
        impl #ty {
            #[doc = #doc_new]
            pub const fn domain<Q: #rt::requests::RequestQueue>(queue: Q, id: u32) -> #domain<Q> {
                #rt::requests::RequestDomain::new(queue, id)
            }
        }

        #[doc = #doc_domain]
        pub type #domain<Q> = #rt::requests::RequestDomain<Q, #granule_shift, #ias>;
    }
}

/// `4K`, `2M`, `1G` for a power-of-two size.
fn size_name(bytes: u64) -> String {
    match bytes.trailing_zeros() {
        s @ 30.. => format!("{}G", 1u64 << (s - 30)),
        s @ 20..=29 => format!("{}M", 1u64 << (s - 20)),
        s @ 10..=19 => format!("{}K", 1u64 << (s - 10)),
        _ => bytes.to_string(),
    }
}

/// `(1 << 12) | (1 << 21)`: one bit per allowed page or block size.
fn page_sizes(sizes: &[u64]) -> TokenStream {
    let terms = sizes.iter().map(|s| {
        let shift = Literal::u32_unsuffixed(s.trailing_zeros());
        if sizes.len() == 1 {
            quote!(1 << #shift)
        } else {
            quote!((1 << #shift))
        }
    });
    quote!(#(#terms)|*)
}

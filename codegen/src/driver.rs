//! One driver's items: its `IommuDriver` impl with the generated `of_xlate`,
//! its constants, and its page-table type with the static table pool.

use iommugen_dsl::ir::{self, Driver, Source};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::expr::{failure_condition, int_literal};
use crate::names::{ident, local, path, shouty};
use crate::origin::Locator;
use crate::translation;
use crate::unread;

/// Names of the items generated for a driver whose type is `ty`.
pub struct ItemNames {
    /// The driver's unit struct.
    pub ty: Ident,
    /// The `pgtable::Format` unit struct.
    pub format: Ident,
    /// The static pool's type alias.
    pub pool_ty: Ident,
    /// The static pool.
    pub pool: Ident,
    /// The engine type alias (generic over the TLB handle).
    pub page_table: Ident,
    /// The request domain's type alias (`requests` blocks).
    pub domain: Ident,
}

impl ItemNames {
    /// Names derived from the driver's type name.
    pub fn for_type(ty: &Ident) -> Self {
        let base = ty.to_string();
        let base = base.trim_start_matches("r#");
        ItemNames {
            ty: ty.clone(),
            format: format_ident!("{}Format", base),
            pool_ty: format_ident!("{}Pool", base),
            pool: format_ident!("{}_POOL", shouty(base)),
            page_table: format_ident!("{}PageTable", base),
            domain: format_ident!("{}Domain", base),
        }
    }
}

/// The driver's unit struct, documented from the spec.
pub fn struct_item(driver: &Driver, names: &ItemNames, origin: &Locator) -> TokenStream {
    let ty = &names.ty;
    let docs = spec_docs(driver);
    let from = format!(
        " Generated from {} (driver `{}`).",
        origin.at(&driver.span),
        driver.name
    );
    quote! {
        #(#[doc = #docs])*
        #[doc = ""]
        #[doc = #from]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct #ty;
    }
}

fn spec_docs(driver: &Driver) -> Vec<String> {
    let mut docs: Vec<String> = if driver.docs.is_empty() {
        vec![format!(" The `{}` IOMMU driver.", driver.name)]
    } else {
        driver
            .docs
            .iter()
            .map(|l| {
                if l.starts_with(' ') || l.is_empty() {
                    l.clone()
                } else {
                    format!(" {l}")
                }
            })
            .collect()
    };
    if let Some(base) = &driver.extends {
        docs.push(String::new());
        docs.push(format!(
            " Extends `{base}`: its specifier contract, translation and DMA policy, with its own `compatible` strings."
        ));
    }
    docs
}

/// Everything but the struct itself: constants, the `IommuDriver` impl, the
/// page-table format, pool and engine alias. `rt` is the path to the runtime.
/// `family`: the compatibles of every driver of the spec, where a cache
/// instance's main instance is looked for (`main property`).
pub fn driver_items(
    driver: &Driver,
    names: &ItemNames,
    origin: &Locator,
    rt: &TokenStream,
    family: &[&str],
) -> TokenStream {
    let ty = &names.ty;
    let name = &driver.name;
    let compatibles = &driver.compatibles;
    let cells = driver
        .cells
        .allowed
        .iter()
        .map(|&c| Literal::u32_unsuffixed(c));
    let info = info_expr(driver, rt);
    let init = init_fn(driver, rt, family);
    let of_xlate = of_xlate_fn(driver, rt);
    let contexts = crate::contexts::contexts_fn(driver, rt, family);
    let (probe_const, probe_device) = crate::probe::probe_items(driver, rt, origin);
    let groups = crate::groups::group_fn(driver, rt);
    let identity_for = crate::groups::identity_for_fn(driver, rt);
    let at_driver = origin.at(&driver.span);
    let at_cells = origin.at(&driver.cells.span);
    let at_dma = origin.at(&driver.dma.span);
    let doc_name = format!(" The driver's name in reports (from {at_driver}).");
    let doc_compat = format!(" The `compatible` strings the driver claims (from {at_driver}).");
    let doc_cells = format!(" The `#iommu-cells` values the driver accepts (from {at_cells}).");
    let doc_info =
        format!(" Domain policy, default IOVA aperture, PCI support and granule (from {at_dma}).");
    let translation = translation::items(driver, names, origin, rt);
    quote! {
        impl #ty {
            #[doc = #doc_name]
            pub const NAME: &'static str = #name;
            #[doc = #doc_compat]
            pub const COMPATIBLES: &'static [&'static str] = &[#(#compatibles),*];
            #[doc = #doc_cells]
            pub const CELLS: &'static [u32] = &[#(#cells),*];
            #[doc = #doc_info]
            pub const INFO: #rt::decl::DriverInfo = #info;
            #probe_const
        }

        impl #rt::decl::IommuDriver for #ty {
            fn name(&self) -> &str {
                Self::NAME
            }

            fn info(&self) -> #rt::decl::DriverInfo {
                Self::INFO
            }

            #init

            #of_xlate

            #probe_device

            #contexts

            #groups

            #identity_for
        }

        #translation
    }
}

fn info_expr(driver: &Driver, rt: &TokenStream) -> TokenStream {
    let domain = ident(match driver.dma.domain {
        ir::DomainPolicy::PerInstance => "PerInstance",
        ir::DomainPolicy::PerDevice => "PerDevice",
        ir::DomainPolicy::PerGroup => "PerGroup",
    });
    let identity = driver.dma.identity_default;
    let shared = driver.dma.shared_domains;
    let base = int_literal(driver.dma.aperture_base);
    let size = int_literal(driver.dma.aperture_size);
    let pci = driver.pci.is_some();
    let granule = int_literal(driver.translation.granule().bytes());
    quote! {
        #rt::decl::DriverInfo {
            domain: #rt::decl::DomainPolicy::#domain,
            aperture_base: #base,
            aperture_size: #size,
            pci: #pci,
            granule: #granule,
            identity_default: #identity,
            shared_domains: #shared,
        }
    }
}

/// `1 | 2` as a pattern.
fn count_pattern(counts: &[u32]) -> TokenStream {
    let lits = counts.iter().map(|&c| Literal::u32_unsuffixed(c));
    quote!(#(#lits)|*)
}

/// Seed step (2): check the node's `#iommu-cells` (and, for a cache
/// instance, that its family has a main instance), then call the hook.
fn init_fn(driver: &Driver, rt: &TokenStream, family: &[&str]) -> TokenStream {
    let pattern = count_pattern(&driver.cells.allowed);
    let hook = path(&driver.init.to_path_string());
    let bring_up = match &driver.main {
        None => quote!(#hook(node)),
        Some(main) => {
            let property = &main.property;
            quote! {
                if #rt::instances::is_cache(node, #property)
                    && #rt::instances::main_instance(node.tree(), #property, &[#(#family),*])
                        .is_none()
                {
                    Err(#rt::decl::DriverError::NoMainInstance { property: #property })
                } else {
                    #hook(node)
                }
            }
        }
    };
    quote! {
        fn init(
            &self,
            node: #rt::fdt::Node<'_>,
        ) -> Result<#rt::decl::InstanceData, #rt::decl::DriverError> {
            match node.u32_property("#iommu-cells") {
                Some(#pattern) => #bring_up,
                Some(got) => Err(#rt::decl::DriverError::WrongCellCount { got }),
                None => Err(#rt::decl::DriverError::Other("no #iommu-cells property")),
            }
        }
    }
}

/// Fields named by a check, a `child` statement or an ID.
fn used_fields(driver: &Driver) -> Vec<bool> {
    /// With an explicit stack: the IR may come from outside the checker.
    fn walk(e: &ir::Expr, used: &mut [bool]) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            match e {
                ir::Expr::Field(i) => {
                    if let Some(u) = used.get_mut(*i) {
                        *u = true;
                    }
                }
                ir::Expr::Lit(_) => {}
                ir::Expr::Not(e) => stack.push(e),
                ir::Expr::Binary(_, a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
            }
        }
    }
    let mut used = vec![false; driver.fields.len()];
    for c in &driver.checks {
        walk(&c.expr, &mut used);
    }
    for g in &driver.dma.groups {
        walk(&g.cond, &mut used);
    }
    let child_fields = driver.children.iter().map(|c| c.field);
    let id_fields = driver.ids.iter().flat_map(|p| &p.parts).map(|p| p.field);
    for f in child_fields.chain(id_fields) {
        if let Some(u) = used.get_mut(f) {
            *u = true;
        }
    }
    used
}

/// `word`, `word & 0xffff`, `word >> 5` or `(word >> 5) & 0x1f`.
pub(crate) fn extract(word: &TokenStream, bits: ir::BitRange) -> TokenStream {
    let lsb = Literal::u8_unsuffixed(bits.lsb);
    let whole_top = u32::from(bits.lsb) + u32::from(bits.width) >= 32;
    let mask = if bits.width >= 32 {
        quote!()
    } else {
        let m: Literal = format!("{:#x}", (1u32 << bits.width) - 1)
            .parse()
            .unwrap_or_else(|_| Literal::u32_unsuffixed((1u32 << bits.width) - 1));
        quote!(#m)
    };
    match (bits.lsb == 0, whole_top) {
        (true, true) => quote!(#word),
        (true, false) => quote!(#word & #mask),
        (false, true) => quote!(#word >> #lsb),
        (false, false) => quote!((#word >> #lsb) & #mask),
    }
}

fn field_stmt(
    refused: &ir::RefusedBits,
    field: &ir::Field,
    used: bool,
    rt: &TokenStream,
) -> TokenStream {
    let name = if used {
        local(&field.name)
    } else {
        ident(&format!("_{}", field.name))
    };
    let field_name = &field.name;
    let mut branches = Vec::new();
    let mut fallback = None;
    for source in &field.sources {
        match source {
            Source::Cell { index, bits, .. } => {
                let getter = if *index == 0 {
                    quote!(args.first())
                } else {
                    let i = Literal::usize_unsuffixed(*index as usize);
                    quote!(args.get(#i))
                };
                let value = extract(&quote!(cell), *bits);
                branches.push(quote!(if let Some(&cell) = #getter { #value }));
            }
            Source::Property { name, bits, .. } => {
                let value = extract(&quote!(value), *bits);
                let refuse = unread::property_check(refused, name, rt);
                branches.push(
                    quote!(if let Some(value) = iommu.u32_property(#name) { #refuse #value }),
                );
            }
            Source::MasterProperty { name, bits, .. } => {
                // A PCI function has no node of its own: the source is
                // unavailable for it.
                let value = extract(&quote!(value), *bits);
                let refuse = unread::master_property_check(refused, name, rt);
                branches.push(quote!(
                    if let Some(value) = master_property(#name) { #refuse #value }
                ));
            }
            Source::Const { value, .. } => {
                fallback = Some(int_literal(u64::from(*value)));
                // The first constant is always available; later sources are dead.
                break;
            }
        }
    }
    let fallback = fallback.unwrap_or_else(
        || quote!(return Err(#rt::decl::DriverError::FieldMissing { field: #field_name })),
    );
    if branches.is_empty() {
        return quote!(let #name: u32 = #fallback;);
    }
    quote! {
        let #name: u32 = #(#branches else)* { #fallback };
    }
}

/// Whether `of_xlate` reads the IOMMU node (a property, its children, or
/// whether it is a main instance).
fn uses_property(driver: &Driver) -> bool {
    !driver.children.is_empty()
        || driver.main.is_some()
        || driver
            .fields
            .iter()
            .flat_map(|f| &f.sources)
            .any(|s| matches!(s, Source::Property { .. }))
}

fn uses_master_property(driver: &Driver) -> bool {
    driver
        .fields
        .iter()
        .flat_map(|f| &f.sources)
        .any(|s| matches!(s, Source::MasterProperty { .. }))
}

/// `allow masters` / `deny soc`: the runtime's policy as a constant and
/// the refusal, before anything else (Linux's `ipmmu_of_xlate` asks
/// `ipmmu_device_is_allowed` first). Empty when every master may attach.
fn policy_check(driver: &Driver, rt: &TokenStream) -> TokenStream {
    let policy = &driver.masters;
    if !policy.restricts() {
        return quote!();
    }
    let allow = match &policy.allow {
        Some(list) => {
            let names = &list.names;
            quote!(Some(&[#(#names),*]))
        }
        None => quote!(None),
    };
    let deny = policy.deny.iter().map(|d| {
        let machine = &d.machine;
        let revision = match &d.revision {
            Some(r) => quote!(Some(#r)),
            None => quote!(None),
        };
        quote!(#rt::master::DeniedSoc { machine: #machine, revision: #revision })
    });
    quote! {
        const POLICY: #rt::master::MasterPolicy<'static> = #rt::master::MasterPolicy {
            allow: #allow,
            deny: &[#(#deny),*],
        };
        POLICY
            .admit(master)
            .map_err(#rt::decl::DriverError::MasterRefused)?;
    }
}

/// Seed step (3): the specifier's cells to the master's IDs, straight-line.
fn of_xlate_fn(driver: &Driver, rt: &TokenStream) -> TokenStream {
    // `iommu-map` hands a PCI master's mapped ID over as one cell.
    let mut counts = driver.cells.allowed.clone();
    if driver.pci.is_some() && !counts.contains(&1) {
        counts.push(1);
        counts.sort_unstable();
    }
    let pattern = count_pattern(&counts);
    let used = used_fields(driver);
    let refused = driver.refused_bits(&counts);
    let fields = driver
        .fields
        .iter()
        .zip(&used)
        .map(|(f, &u)| field_stmt(&refused, f, u, rt));
    let unread = unread::cell_checks(&refused, &counts, rt);
    let checks = driver.checks.iter().map(|c| {
        let fails = failure_condition(driver, &c.expr);
        let text = &c.text;
        quote! {
            if #fails {
                return Err(#rt::decl::DriverError::CheckRejected { check: #text });
            }
        }
    });
    let children = crate::child::child_checks(driver, rt);
    let group_mask = crate::groups::mask_stmt(driver);
    let grouped = group_mask.is_some();
    let pushes = driver.ids.iter().map(|p| {
        let parts: Vec<TokenStream> = p
            .parts
            .iter()
            .map(|part| {
                let f = local(
                    driver
                        .fields
                        .get(part.field)
                        .map_or("_", |f| f.name.as_str()),
                );
                if part.shift == 0 {
                    quote!(#f)
                } else {
                    let s = Literal::u8_unsuffixed(part.shift);
                    if p.parts.len() == 1 {
                        quote!(#f << #s)
                    } else {
                        quote!((#f << #s))
                    }
                }
            })
            .collect();
        let id = if parts.is_empty() {
            quote!(0)
        } else {
            quote!(#(#parts)|*)
        };
        if grouped {
            quote!(ids.push_in(#id, groups)?;)
        } else {
            quote!(ids.push(#id)?;)
        }
    });
    let iommu = if uses_property(driver) {
        quote!(iommu)
    } else {
        quote!(_iommu)
    };
    // Linux registers only cache instances: a main one is no master's IOMMU.
    let not_main = driver.main.as_ref().map(|m| {
        let property = &m.property;
        quote! {
            if !#rt::instances::is_cache(iommu, #property) {
                return Err(#rt::decl::DriverError::MainInstance { property: #property });
            }
        }
    });
    let ids = if driver.ids.is_empty() {
        quote!(_ids)
    } else {
        quote!(ids)
    };
    let policy = policy_check(driver, rt);
    let reads_master = uses_master_property(driver);
    let master = if reads_master || driver.masters.restricts() {
        quote!(master)
    } else {
        quote!(_master)
    };
    // A property of the master's own node; none for a PCI function.
    let master_property = reads_master.then(|| {
        quote! {
            let master_property = |name: &str| {
                if master.is_pci() {
                    None
                } else {
                    master.node().u32_property(name)
                }
            };
        }
    });
    quote! {
        fn of_xlate(
            &self,
            #master: &#rt::master::Master<'_>,
            #iommu: #rt::fdt::Node<'_>,
            _data: #rt::decl::InstanceData,
            args: &[u32],
            #ids: &mut #rt::fwspec::IdSink<'_>,
        ) -> Result<(), #rt::decl::DriverError> {
            #policy
            #not_main
            if !matches!(args.len(), #pattern) {
                return Err(#rt::decl::DriverError::WrongCellCount {
                    got: u32::try_from(args.len()).unwrap_or(u32::MAX),
                });
            }
            #(#unread)*
            #master_property
            #(#fields)*
            #(#checks)*
            #(#children)*
            #group_mask
            #(#pushes)*
            Ok(())
        }
    }
}

/// Rows of the runtime's cross-crate declaration table, one per compatible.
/// linkme places each in a linker section; its expansion passes a
/// `forbid(unsafe_code)` around it. `ty` is the path to the driver's type.
pub fn registration(driver: &Driver, ty: &TokenStream, rt: &TokenStream) -> TokenStream {
    let rows = driver.compatibles.iter().enumerate().map(|(i, c)| {
        let name = format_ident!("__IOMMUGEN_{}_{}", shouty(&driver.name), i);
        quote! {
            #[#rt::linkme::distributed_slice(#rt::decl::IOMMU_DECLARATIONS)]
            #[linkme(crate = #rt::linkme)]
            static #name: #rt::decl::Declaration<'static> = #rt::decl::Declaration {
                compatible: #c,
                driver: &#ty,
            };
        }
    });
    quote!(#(#rows)*)
}

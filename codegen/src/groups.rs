//! `group` statements: the bit mask `of_xlate` stores with each ID (which
//! groups its fields satisfy) and the table `IommuDriver::group` answers
//! from, so the runtime can pick a master's group and its aperture.

use iommugen_dsl::ir::Driver;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::expr::{holding_condition, int_literal};

/// `let groups = ..;` computing the groups one specifier's fields satisfy,
/// or nothing for a driver without groups.
pub fn mask_stmt(driver: &Driver) -> Option<TokenStream> {
    if driver.dma.groups.is_empty() {
        return None;
    }
    // The checker allows at most 32 (E0504); an IR built elsewhere with
    // more would need bits a `u32` mask does not have.
    if driver.dma.groups.len() > iommugen_dsl::ir::MAX_GROUPS {
        let msg = format!(
            "iommugen: driver `{}` has more than {} groups",
            driver.name,
            iommugen_dsl::ir::MAX_GROUPS
        );
        return Some(quote!(::core::compile_error!(#msg);));
    }
    let sets = driver.dma.groups.iter().enumerate().map(|(i, g)| {
        let cond = holding_condition(driver, &g.cond);
        let bit = int_literal(1u64 << i);
        quote! {
            if #cond {
                groups |= #bit;
            }
        }
    });
    Some(quote! {
        let mut groups: u32 = 0;
        #(#sets)*
    })
}

/// `IommuDriver::identity_for` for a driver whose identity default domain
/// is for some masters only.
pub fn identity_for_fn(driver: &Driver, rt: &TokenStream) -> Option<TokenStream> {
    let list = &driver.dma.identity_compatibles;
    if list.is_empty() {
        return None;
    }
    Some(quote! {
        fn identity_for(&self, master: #rt::fdt::Node<'_>) -> bool {
            [#(#list),*].iter().any(|c| master.is_compatible(c))
        }
    })
}

/// `IommuDriver::group` for a driver with groups (the trait's default,
/// none, otherwise).
pub fn group_fn(driver: &Driver, rt: &TokenStream) -> Option<TokenStream> {
    if driver.dma.groups.is_empty() {
        return None;
    }
    let rows = driver.dma.groups.iter().map(|g| {
        let name = &g.name;
        let (base, size) = driver.dma.aperture_of(g);
        let (base, size) = (int_literal(base), int_literal(size));
        quote! {
            #rt::decl::GroupInfo {
                name: #name,
                aperture_base: #base,
                aperture_size: #size,
            }
        }
    });
    let n = Literal::usize_unsuffixed(driver.dma.groups.len());
    Some(quote! {
        fn group(&self, index: u32) -> Option<#rt::decl::GroupInfo<'_>> {
            const GROUPS: [#rt::decl::GroupInfo<'static>; #n] = [#(#rows),*];
            GROUPS.get(usize::try_from(index).ok()?).copied()
        }
    })
}

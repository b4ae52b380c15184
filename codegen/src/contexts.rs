//! `contexts N reserved K;` as the driver's `IommuDriver::contexts`: the
//! pool an instance draws on (its main instance's, for a cache instance),
//! which the runtime's domain setup counts (Linux's
//! `ipmmu_domain_allocate_context`).

use iommugen_dsl::ir::Driver;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The `contexts` method, or nothing for a driver that does not count.
pub(crate) fn contexts_fn(driver: &Driver, rt: &TokenStream, family: &[&str]) -> TokenStream {
    let Some(c) = &driver.contexts else {
        return TokenStream::new();
    };
    let total = Literal::u32_unsuffixed(c.total);
    let reserved = Literal::u32_unsuffixed(c.reserved);
    let main = match &driver.main {
        None => quote!(None),
        Some(m) => {
            let property = &m.property;
            quote!(Some((#property, &[#(#family),*][..])))
        }
    };
    quote! {
        fn contexts(
            &self,
            iommu: #rt::fdt::Node<'_>,
        ) -> Option<#rt::contexts::ContextPool> {
            #rt::contexts::ContextPool::of(iommu, #total, #reserved, #main)
        }
    }
}

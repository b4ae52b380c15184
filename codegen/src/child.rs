//! `child` statements in the generated `of_xlate`: a refusal unless the
//! IOMMU node has an available child of the given compatibles whose key
//! equals the field, read through the runtime's FDT reader
//! (`Node::children_compatible`, `Node::first_u32`).

use iommugen_dsl::ir::{ChildMatch, Driver};
use proc_macro2::TokenStream;
use quote::quote;

use crate::driver::extract;
use crate::names::local;

/// One early return per `child` statement, in spec order.
pub fn child_checks(driver: &Driver, rt: &TokenStream) -> Vec<TokenStream> {
    driver
        .children
        .iter()
        .map(|c| child_check(driver, c, rt))
        .collect()
}

fn child_check(driver: &Driver, c: &ChildMatch, rt: &TokenStream) -> TokenStream {
    let field = local(driver.fields.get(c.field).map_or("_", |f| f.name.as_str()));
    let compatibles = &c.compatibles;
    // The first key source the child has gives its key.
    let mut key = None;
    for k in &c.key {
        let name = &k.property;
        let value = extract(&quote!(value), k.bits);
        let read = if value.to_string() == "value" {
            quote!(child.first_u32(#name))
        } else {
            quote!(child.first_u32(#name).map(|value| #value))
        };
        key = Some(match key {
            None => read,
            Some(before) => quote!(#before.or_else(|| #read)),
        });
    }
    let key = key.unwrap_or_else(|| quote!(None::<u32>));
    let text = &c.text;
    quote! {
        if !iommu
            .children_compatible(&[#(#compatibles),*])
            .any(|child| #key == Some(#field))
        {
            return Err(#rt::decl::DriverError::NoChild {
                child: #text,
                key: u64::from(#field),
            });
        }
    }
}

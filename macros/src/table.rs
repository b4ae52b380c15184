//! `iommu_table!`: a static declaration table from driver types, for kernels
//! that list their drivers instead of relying on the linker section.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Attribute, Ident, Path, Token, Visibility};

/// `#[attrs] [pub] static NAME = [Type, Type, ..] [, runtime = ::path]`
pub struct Input {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
    types: Punctuated<Path, Token![,]>,
    runtime: Option<Path>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![static]>()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let content;
        bracketed!(content in input);
        let types = content.parse_terminated(Path::parse_mod_style, Token![,])?;
        let mut runtime = None;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let key: Ident = input.parse()?;
            if key != "runtime" {
                return Err(syn::Error::new(
                    key.span(),
                    "expected `runtime = ::path` after the type list",
                ));
            }
            input.parse::<Token![=]>()?;
            runtime = Some(input.call(Path::parse_mod_style)?);
            input.parse::<Option<Token![,]>>()?;
        }
        Ok(Input {
            attrs,
            vis,
            name,
            types,
            runtime,
        })
    }
}

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let Input {
        attrs,
        vis,
        name,
        types,
        runtime,
    } = syn::parse2(input)?;
    let rt = match runtime {
        Some(path) => quote!(#path),
        None => quote!(::iommugen_runtime),
    };
    let Some(first) = types.first() else {
        return Ok(quote! {
            #(#attrs)*
            #vis static #name: &[#rt::decl::Declaration<'static>] = &[];
        });
    };
    let types: Vec<&Path> = types.iter().collect();
    Ok(quote! {
        #(#attrs)*
        #vis static #name: &[#rt::decl::Declaration<'static>] = {
            const N: usize = 0 #(+ <#types>::COMPATIBLES.len())*;
            const ROWS: [#rt::decl::Declaration<'static>; N] = {
                let mut rows = [#rt::decl::Declaration { compatible: "", driver: &#first }; N];
                let mut i = 0;
                #(
                    let mut j = 0;
                    while j < <#types>::COMPATIBLES.len() {
                        rows[i] = #rt::decl::Declaration {
                            compatible: <#types>::COMPATIBLES[j],
                            driver: &#types,
                        };
                        i += 1;
                        j += 1;
                    }
                )*
                rows
            };
            &ROWS
        };
    })
}

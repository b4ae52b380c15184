//! The generated refusals of bits no field reads (issue 9): a specifier
//! whose cells, or a property a field takes its value from, have bits set
//! that the spec neither reads nor declares dropped (`ignore`) is refused
//! with `DriverError::UnreadBits`, never truncated into another master's ID.

use iommugen_dsl::ir::RefusedBits;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::expr::int_literal;

/// One early `return Err(..)` per cell that can carry refused bits, run
/// before any field is read. `counts` are the specifier lengths `of_xlate`
/// accepts; a cell whose refused bits differ between them matches on the
/// length.
pub fn cell_checks(refused: &RefusedBits, counts: &[u32], rt: &TokenStream) -> Vec<TokenStream> {
    let max = counts.iter().copied().max().unwrap_or(0);
    let mut out = Vec::new();
    for index in 0..max {
        let masks: Vec<(u32, u32)> = counts
            .iter()
            .filter(|&&n| n > index)
            .map(|&n| (n, refused.cell(n, index)))
            .collect();
        if masks.iter().all(|&(_, m)| m == 0) {
            continue;
        }
        let mask = if masks.windows(2).all(|w| w[0].1 == w[1].1) {
            int_literal(u64::from(masks[0].1))
        } else {
            let arms = masks.iter().map(|&(n, m)| {
                let n = Literal::usize_unsuffixed(n as usize);
                let m = int_literal(u64::from(m));
                quote!(#n => #m,)
            });
            quote!(match args.len() { #(#arms)* _ => 0 })
        };
        let getter = if index == 0 {
            quote!(args.first())
        } else {
            let i = Literal::usize_unsuffixed(index as usize);
            quote!(args.get(#i))
        };
        let word = Literal::u32_unsuffixed(index);
        out.push(quote! {
            if let Some(&cell) = #getter {
                let unread = cell & #mask;
                if unread != 0 {
                    return Err(#rt::decl::DriverError::UnreadBits {
                        word: #rt::decl::SpecWord::Cell(#word),
                        bits: unread,
                    });
                }
            }
        });
    }
    out
}

/// The refusal inside a field's branch that took property `name`'s `value`;
/// empty when every bit of it is read or dropped.
pub fn property_check(refused: &RefusedBits, name: &str, rt: &TokenStream) -> TokenStream {
    word_check(
        refused.property(name),
        quote!(#rt::decl::SpecWord::Property(#name)),
        rt,
    )
}

/// As [`property_check`], for master property `name`.
pub fn master_property_check(refused: &RefusedBits, name: &str, rt: &TokenStream) -> TokenStream {
    word_check(
        refused.master_property(name),
        quote!(#rt::decl::SpecWord::MasterProperty(#name)),
        rt,
    )
}

fn word_check(refused: u32, word: TokenStream, rt: &TokenStream) -> TokenStream {
    if refused == 0 {
        return quote!();
    }
    let refused = int_literal(u64::from(refused));
    quote! {
        let unread = value & #refused;
        if unread != 0 {
            return Err(#rt::decl::DriverError::UnreadBits {
                word: #word,
                bits: unread,
            });
        }
    }
}

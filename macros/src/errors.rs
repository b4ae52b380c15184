//! Checker diagnostics as compile errors at the attribute's tokens.

use iommugen_dsl::Diagnostic;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::synth::Synth;

/// The diagnostic's text: message and code, then its labels and help.
pub fn message(d: &Diagnostic) -> String {
    let mut out = format!("{} [{}]", d.message, d.code);
    for label in &d.labels {
        if label.text.is_empty() {
            continue;
        }
        if label.primary {
            out.push_str(&format!("\n  = {}", label.text));
        } else {
            out.push_str(&format!("\n  = note: {}", label.text));
        }
    }
    if let Some(help) = &d.help {
        out.push_str(&format!("\n  = help: {help}"));
    }
    out
}

/// A `syn::Error` covering the tokens from `first` to `last` (on stable
/// Rust, syn marks the range with the two ends' spans).
fn spanning(first: Span, last: Span, text: String) -> syn::Error {
    let a = Ident::new("a", first);
    let b = Ident::new("b", last);
    let tokens: TokenStream = quote!(#a #b);
    syn::Error::new_spanned(tokens, text)
}

/// Every error diagnostic, each at its argument's tokens.
pub fn combine(diags: &[Diagnostic], synth: &Synth) -> syn::Error {
    let mut all: Option<syn::Error> = None;
    for d in diags.iter().filter(|d| d.is_error()) {
        let (first, last) = d
            .primary_span()
            .and_then(|r| synth.spans(&r))
            .unwrap_or((Span::call_site(), Span::call_site()));
        let e = spanning(first, last, message(d));
        match &mut all {
            Some(all) => all.combine(e),
            None => all = Some(e),
        }
    }
    all.unwrap_or_else(|| syn::Error::new(Span::call_site(), "the driver has errors"))
}

/// Checker warnings as compiler warnings at the argument's tokens. Stable
/// Rust gives procedural macros no warning API; the usual stand-in is a use
/// of a `#[deprecated]` item whose note carries the message, so the warning
/// reads "use of deprecated constant ..: <message>" and obeys `-D warnings`
/// and `#[allow(deprecated)]` like any other.
pub fn warnings(diags: &[Diagnostic], synth: &Synth) -> TokenStream {
    let located = diags.iter().filter(|d| !d.is_error()).map(|d| {
        let (first, _) = d
            .primary_span()
            .and_then(|r| synth.spans(&r))
            .unwrap_or((Span::call_site(), Span::call_site()));
        (first, message(d))
    });
    warnings_at(located)
}

/// One deprecated-constant warning per `(span, message)`.
pub fn warnings_at(located: impl Iterator<Item = (Span, String)>) -> TokenStream {
    let items = located.map(|(first, note)| {
        let name = Ident::new("iommu_driver_warning", Span::call_site());
        // The use carries the argument's span: that is where rustc warns.
        let used = Ident::new("iommu_driver_warning", first);
        quote! {
            const _: () = {
                #[deprecated(note = #note)]
                #[allow(non_upper_case_globals)]
                const #name: () = ();
                #used
            };
        }
    });
    quote!(#(#items)*)
}

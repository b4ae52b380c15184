//! Rust names for generated items, derived from spec names.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// `arm_smmu_v3` → `ArmSmmuV3` (the driver's unit struct).
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for part in snake.split(['_', '-']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// `ArmSmmuV3` or `arm_smmu_v3` → `ARM_SMMU_V3` (statics).
pub fn shouty(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '-' || c == '_' {
            out.push('_');
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_uppercase());
    }
    out
}

/// A spec file stem (`arm-smmu-v3`) as a module name (`arm_smmu_v3`).
pub fn module(stem: &str) -> String {
    let mut out: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// An identifier token: raw if it is a keyword, path keywords (`crate`,
/// `self`, `super`) as they are. Characters an identifier cannot hold become
/// `_` (the checker only lets identifiers through; this keeps the
/// generator total).
pub fn ident(name: &str) -> Ident {
    let mut clean: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with(|c: char| c.is_numeric()) {
        clean.insert(0, '_');
    }
    match clean.as_str() {
        "crate" | "self" | "super" | "Self" | "_" => Ident::new(&clean, Span::call_site()),
        _ if syn::parse_str::<Ident>(&clean).is_ok() => Ident::new(&clean, Span::call_site()),
        _ => Ident::new_raw(&clean, Span::call_site()),
    }
}

/// The local variable holding a field's value in `of_xlate`: the field's
/// name, unless that would shadow one of the function's own bindings.
pub fn local(field: &str) -> Ident {
    match field {
        "args" | "ids" | "iommu" | "cell" | "value" | "node" => ident(&format!("field_{field}")),
        _ => ident(field),
    }
}

/// A `::`-separated path (leading `::` kept) as tokens.
pub fn path(text: &str) -> TokenStream {
    let text = text.trim();
    let (leading, rest) = match text.strip_prefix("::") {
        Some(rest) => (quote!(::), rest),
        None => (TokenStream::new(), text),
    };
    let segments = rest.split("::").map(|s| ident(s.trim()));
    quote!(#leading #(#segments)::*)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(camel("arm_smmu_v3"), "ArmSmmuV3");
        assert_eq!(camel("mtk_m4u"), "MtkM4u");
        assert_eq!(shouty("arm_smmu_v3"), "ARM_SMMU_V3");
        assert_eq!(shouty("ArmSmmuV3"), "ARM_SMMU_V3");
        assert_eq!(module("arm-smmu-v3"), "arm_smmu_v3");
        assert_eq!(module("3d"), "_3d");
    }

    #[test]
    fn paths_keep_leading_colons() {
        assert_eq!(
            path("::iommugen_runtime").to_string(),
            ":: iommugen_runtime"
        );
        assert_eq!(path("crate::a::b").to_string(), "crate :: a :: b");
    }
}

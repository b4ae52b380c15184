//! `include_spec!("file.iommu")`.

use std::path::PathBuf;

use iommugen_dsl::render::{Cap, HumanStyle, SourceFile};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

struct Input {
    file: LitStr,
    runtime: Option<String>,
    register: bool,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let file: LitStr = input.parse()?;
        let mut runtime = None;
        let mut register = false;
        while input.parse::<Option<Token![,]>>()?.is_some() {
            if input.is_empty() {
                break;
            }
            let key: syn::Ident = input.parse()?;
            match key.to_string().as_str() {
                "runtime" => {
                    input.parse::<Token![=]>()?;
                    let path: syn::Path = input.call(syn::Path::parse_mod_style)?;
                    runtime = Some(quote!(#path).to_string().replace(' ', ""));
                }
                "register" => register = true,
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{other}`; expected `runtime = ::path` or `register`"
                        ),
                    ))
                }
            }
        }
        Ok(Input {
            file,
            runtime,
            register,
        })
    }
}

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let Input {
        file,
        runtime,
        register,
    } = syn::parse2(input)?;
    let name = file.value();
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = root.join(&name);
    let bytes = std::fs::read(&path).map_err(|e| {
        syn::Error::new(file.span(), format!("cannot read {}: {e}", path.display()))
    })?;
    let decoded = iommugen_dsl::encoding::decode(bytes);
    let text = decoded.text;
    if let Some(error) = decoded.error {
        return Err(spec_errors(&[error], &name, &text, file.span()));
    }
    let checked = iommugen_dsl::check_source(&name, &text);
    let spec = match checked.spec {
        Some(spec) if !checked.has_errors() => spec,
        _ => return Err(spec_errors(&checked.diagnostics, &name, &text, file.span())),
    };
    let mut options = iommugen_codegen::Options {
        register,
        ..Default::default()
    };
    if let Some(runtime) = runtime {
        options.runtime = runtime;
    }
    let module = iommugen_codegen::module_name(&name);
    let origin = iommugen_codegen::Origin::Spec {
        file: &name,
        source: &text,
    };
    let items = iommugen_codegen::spec_file(&spec, &module, &origin, &options);
    // Makes cargo rebuild the crate when the spec changes.
    let tracked = path.display().to_string();
    let source = SourceFile::new(&name, &text);
    let warnings = crate::errors::warnings_at(
        checked
            .diagnostics
            .iter()
            .filter(|d| !d.is_error())
            .map(|d| {
                let (line, column) = d
                    .primary_span()
                    .map_or((1, 1), |s| source.line_col(s.start));
                (
                    file.span(),
                    format!("{name}:{line}:{column}: {}", crate::errors::message(d)),
                )
            }),
    );
    Ok(quote! {
        #items
        const _: &[u8] = include_bytes!(#tracked);
        #warnings
    })
}

/// One compile error per spec error, at the macro's string literal, each
/// starting `file:line:column` and carrying the report `iommugen check`
/// prints.
fn spec_errors(diags: &[iommugen_dsl::Diagnostic], name: &str, text: &str, at: Span) -> syn::Error {
    let style = HumanStyle {
        color: false,
        width: 100,
    };
    let mut all: Option<syn::Error> = None;
    let source = SourceFile::new(name, text);
    let mut cap = Cap::default();
    for d in diags.iter().filter(|d| d.is_error()) {
        if !cap.admit(d) {
            continue;
        }
        let (line, column) = d
            .primary_span()
            .map_or((1, 1), |s| source.line_col(s.start));
        let msg = format!(
            "{name}:{line}:{column}: {} [{}]\n{}",
            d.message,
            d.code,
            source.human(d, style)
        );
        let e = syn::Error::new(at, msg);
        match &mut all {
            Some(all) => all.combine(e),
            None => all = Some(e),
        }
    }
    if let (Some(all), Some(left_off)) = (&mut all, cap.summary()) {
        all.combine(syn::Error::new(at, format!("{name}: {left_off}")));
    }
    all.unwrap_or_else(|| syn::Error::new(at, format!("{name}: the spec has errors")))
}

//! `#[iommu_driver(...)]` arguments to DSL source text, token by token.
//!
//! Each argument mirrors one DSL statement (`cells: 1 | 2` is `cells 1 | 2;`,
//! `page_table: arm_lpae_s1 { granule: 4K, .. }` is `page-table arm-lpae-s1 {
//! granule 4K; .. }`), so the lowered text goes through the very parser and
//! checker a `.iommu` file does. Every byte remembers the Rust token it came
//! from ([`Synth`]), which is how a checker error lands on the argument.

use proc_macro2::{Delimiter, Ident, Spacing, Span, TokenStream, TokenTree};

use crate::synth::Synth;

/// Arguments that are not DSL statements.
#[derive(Default)]
pub struct Extra {
    /// `runtime: ::path` — where the generated code finds the runtime.
    pub runtime: Option<String>,
    /// `name: ident` — the driver's name in reports (default: the type's
    /// name in snake case).
    pub name: Option<Ident>,
}

const KEYS: &str =
"compatible, cells, field, ignore, check, child, id, pci, main, contexts, master, allow_masters, deny_soc, page_table, requests, dma, init, name, runtime";

/// Lowers the attribute's arguments for the driver type `ty` (with `docs`,
/// the type's doc-comment lines) to a one-driver spec.
pub fn lower(
    args: TokenStream,
    ty: &Ident,
    docs: &[(String, Span)],
) -> Result<(Synth, Extra), syn::Error> {
    let mut extra = Extra::default();
    let mut body = Synth::default();
    for item in split(args) {
        statement(&item, &mut body, &mut extra)?;
    }
    let mut out = Synth::default();
    for (line, span) in docs {
        out.push(&format!("///{line}"), *span);
        out.sep("\n");
    }
    out.push("driver", ty.span());
    out.sep(" ");
    match &extra.name {
        Some(name) => out.push(&name.to_string(), name.span()),
        None => out.push(&snake(&ty.to_string()), ty.span()),
    }
    out.sep(" {\n");
    out.append(body);
    out.push("}", ty.span());
    out.sep("\n");
    Ok((out, extra))
}

/// `ArmSmmuV3` → `arm_smmu_v3`.
pub fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    let mut prev_lower = false;
    for c in camel.trim_start_matches("r#").chars() {
        if c.is_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// Splits at top-level commas (commas inside groups belong to the group).
fn split(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => {
                if let Some(last) = items.last_mut() {
                    last.push(tt);
                }
            }
        }
    }
    items.retain(|i| !i.is_empty());
    items
}

fn span_of(tokens: &[TokenTree], fallback: Span) -> Span {
    tokens.first().map_or(fallback, TokenTree::span)
}

/// `key`, then an optional `:` or `=`, then the value tokens.
fn key_value(item: &[TokenTree]) -> Result<(Ident, &[TokenTree]), syn::Error> {
    let Some(TokenTree::Ident(key)) = item.first() else {
        return Err(syn::Error::new(
            span_of(item, Span::call_site()),
            format!("expected an argument name: one of {KEYS}"),
        ));
    };
    let rest = &item[1..];
    let value = match rest.first() {
        Some(TokenTree::Punct(p)) if p.as_char() == ':' || p.as_char() == '=' => &rest[1..],
        _ => rest,
    };
    Ok((key.clone(), value))
}

/// `arm_lpae_s1` → `arm-lpae-s1` (DSL words use dashes).
fn word(ident: &Ident) -> String {
    ident.to_string().replace('_', "-")
}

fn statement(item: &[TokenTree], out: &mut Synth, extra: &mut Extra) -> Result<(), syn::Error> {
    let (key, value) = key_value(item)?;
    let ks = key.span();
    out.sep("    ");
    let key_text = key.to_string();
    match key_text.as_str() {
        "compatible" => {
            out.push("compatible", ks);
            out.sep(" ");
            list(value, ", ", out);
        }
        "cells" => {
            out.push("cells", ks);
            out.sep(" ");
            list(value, " | ", out);
        }
        "field" => {
            out.push("field", ks);
            out.sep(" ");
            render(&item[1..], out);
        }
        "ignore" => {
            // `ignore: cell[0][31:16]` or a list `ignore: [cell[0][31:16], ..]`.
            out.push("ignore", ks);
            out.sep(" ");
            list(value, ", ", out);
        }
        "check" => {
            out.push("check", ks);
            out.sep(" ");
            render(value, out);
        }
        "child" => {
            // `child: ["a", "b"] where f == property("p") else ..` (a
            // bracket list, since top-level commas split arguments), or
            // `child: "a" where ..`.
            out.push("child", ks);
            out.sep(" ");
            match value {
                [TokenTree::Group(g), rest @ ..] if g.delimiter() == Delimiter::Bracket => {
                    list(&value[..1], ", ", out);
                    render(rest, out);
                }
                _ => render(value, out),
            }
        }
        "id" => {
            out.push("id", ks);
            out.sep(" = ");
            render(value, out);
        }
        "pci" => {
            out.push("pci", ks);
            out.sep(" ");
            match value {
                [] => out.push("iommu-map", ks),
                [TokenTree::Ident(v)] => out.push(&word(v), v.span()),
                _ => render(value, out),
            }
        }
        "main" => {
            // `main: property("renesas,ipmmu-main")`.
            out.push("main", ks);
            out.sep(" ");
            render(value, out);
        }
        // `contexts: 8 reserved 1` (or `contexts: 1`).
        "contexts" => {
            out.push("contexts", ks);
            out.sep(" ");
            render(value, out);
        }
        // `master: one_instance` or `master: same(larb)`: the probe policy.
        "master" => {
            out.push("master", ks);
            out.sep(" ");
            match value {
                [TokenTree::Ident(v)] if v == "one_instance" => out.push("one instance", v.span()),
                [TokenTree::Ident(v), TokenTree::Group(g)]
                    if v == "same" && g.delimiter() == Delimiter::Parenthesis =>
                {
                    out.push("same", v.span());
                    out.sep(" ");
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    render(&inner, out);
                }
                // Anything else goes to the parser as written, which reports it.
                _ => render(value, out),
            }
        }
        "init" => {
            out.push("init", ks);
            out.sep(" ");
            render(value, out);
        }
        // `allow_masters: ["ee100000.mmc", ..]`: `allow masters "..", ..;`
        "allow_masters" => {
            out.push("allow masters", ks);
            out.sep(" ");
            list(value, ", ", out);
        }
        // `deny_soc: ["renesas,r8a7796", "renesas,r8a7795" revision "ES2.*"]`
        "deny_soc" => {
            out.push("deny soc", ks);
            out.sep(" ");
            list(value, ", ", out);
        }
        "page_table" | "requests" => {
            out.push(
                if key_text == "requests" {
                    "requests"
                } else {
                    "page-table"
                },
                ks,
            );
            out.sep(" ");
            let (format, block) = match value {
                [TokenTree::Ident(f), TokenTree::Group(g)] if g.delimiter() == Delimiter::Brace => {
                    (f, g)
                }
                _ => {
                    return Err(syn::Error::new(
                        span_of(value, ks),
                        "expected `page_table: FORMAT { granule: 4K, ias: 48, .. }`",
                    ))
                }
            };
            out.push(&word(format), format.span());
            block_items(block, out, |key, value, out| {
                let ks = key.span();
                match key.to_string().as_str() {
                    "coherent_walk" => out.push("coherent-walk", ks),
                    "mtk_ext" => out.push("mtk-ext", ks),
                    "sizes" => {
                        out.push("sizes", ks);
                        out.sep(" ");
                        list(value, " ", out);
                    }
                    other => {
                        out.push(other, ks);
                        out.sep(" ");
                        render(value, out);
                    }
                }
            })?;
            return Ok(());
        }
        "dma" => {
            out.push("dma", ks);
            let block = match value {
                [TokenTree::Group(g)] if g.delimiter() == Delimiter::Brace => g,
                _ => {
                    return Err(syn::Error::new(
                        span_of(value, ks),
                        "expected `dma: { domain: per_device, aperture: START..END }`",
                    ))
                }
            };
            block_items(block, out, |key, value, out| {
                out.push(&key.to_string(), key.span());
                out.sep(" ");
                match (key.to_string().as_str(), value) {
                    ("domain", [TokenTree::Ident(v)]) => out.push(&word(v), v.span()),
                    _ => render(value, out),
                }
            })?;
            return Ok(());
        }
        "name" => {
            match value {
                [TokenTree::Ident(name)] => extra.name = Some(name.clone()),
                _ => {
                    return Err(syn::Error::new(
                        span_of(value, ks),
                        "expected `name: snake_case_name`",
                    ))
                }
            }
            return Ok(());
        }
        "runtime" => {
            extra.runtime = Some(value.iter().map(ToString::to_string).collect());
            return Ok(());
        }
        // A base is a driver above in the same spec; one attribute is a
        // spec of one driver, so it has none to extend.
        "extends" => {
            return Err(syn::Error::new(
                ks,
                "`#[iommu_driver]` describes one driver, so `extends` has no base to find: write the family (the base above the drivers that extend it) in a `.iommu` file and use `include_spec!`",
            ))
        }
        other => {
            return Err(syn::Error::new(
                ks,
                format!("unknown `#[iommu_driver]` argument `{other}`; expected one of {KEYS}"),
            ))
        }
    }
    out.push(";", ks);
    out.sep("\n");
    Ok(())
}

/// ` { item; item; }` from a brace group of `key: value` items.
fn block_items(
    block: &proc_macro2::Group,
    out: &mut Synth,
    mut each: impl FnMut(&Ident, &[TokenTree], &mut Synth),
) -> Result<(), syn::Error> {
    out.sep(" ");
    out.push("{", block.span_open());
    out.sep("\n");
    for item in split(block.stream()) {
        let (key, value) = key_value(&item)?;
        out.sep("        ");
        each(&key, value, out);
        out.push(";", key.span());
        out.sep("\n");
    }
    out.sep("    ");
    out.push("}", block.span_close());
    out.sep("\n");
    Ok(())
}

/// `[a, b]` as `a<sep>b`; anything else as written.
fn list(value: &[TokenTree], sep: &str, out: &mut Synth) {
    match value {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket => {
            for (i, item) in split(g.stream()).iter().enumerate() {
                if i > 0 {
                    out.sep(sep);
                }
                render(item, out);
            }
        }
        _ => render(value, out),
    }
}

/// Tokens as DSL text. `property("name")` becomes `property "name"`.
fn render(tokens: &[TokenTree], out: &mut Synth) {
    render_nested(tokens, out, 0);
}

/// [`render`] inside `depth` groups. Past the language's nesting limit a
/// group's contents are left out: its brackets alone still nest too deep,
/// so the checker reports `E0004` at the group's opening token, and this
/// recursion stops there however deep the arguments go.
fn render_nested(tokens: &[TokenTree], out: &mut Synth, depth: usize) {
    let mut joint = false;
    let mut iter = tokens.iter().peekable();
    while let Some(tt) = iter.next() {
        if !joint && !out.text.is_empty() && !out.text.ends_with([' ', '\n']) {
            out.sep(" ");
        }
        joint = false;
        match tt {
            TokenTree::Ident(i) => {
                out.push(&i.to_string(), i.span());
                if i == "property" {
                    if let Some(TokenTree::Group(g)) = iter.peek() {
                        if g.delimiter() == Delimiter::Parenthesis {
                            out.sep(" ");
                            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                            render_nested(&inner, out, depth + 1);
                            iter.next();
                        }
                    }
                }
            }
            TokenTree::Literal(l) => out.push(&l.to_string(), l.span()),
            TokenTree::Punct(p) => {
                out.push(&p.as_char().to_string(), p.span());
                joint = p.spacing() == Spacing::Joint;
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push(open, g.span_open());
                if depth < iommugen_dsl::depth::MAX_EXPR_DEPTH {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    render_nested(&inner, out, depth + 1);
                }
                out.push(close, g.span_close());
            }
        }
    }
}

#[cfg(test)]
mod tests;

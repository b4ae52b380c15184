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
    "compatible, cells, field, ignore, check, child, id, pci, page_table, requests, dma, init, name, runtime";

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
        "init" => {
            out.push("init", ks);
            out.sep(" ");
            render(value, out);
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
mod tests {
    use super::*;
    use iommugen_dsl::ir;
    use quote::quote;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake("ArmSmmuV3"), "arm_smmu_v3");
        assert_eq!(snake("MtkM4u"), "mtk_m4u");
        assert_eq!(snake("Dart"), "dart");
    }

    #[test]
    fn lowers_to_the_dsl() {
        let args = quote! {
            compatible: ["arm,mmu-500", "arm,smmu-v2"],
            cells: 1 | 2,
            field stream_id: u16 = cell[0][15:0],
            field mask: u16 = cell[1][15:0] else property("stream-match-mask")[15:0] else 0,
            id: mask << 16 | stream_id,
            pci: iommu_map,
            page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M], coherent_walk, pool: 64 },
            dma: { domain: per_device },
            init: crate::smmu::probe,
        };
        let ty = Ident::new("ArmSmmu", Span::call_site());
        let (synth, _) = lower(args, &ty, &[]).unwrap();
        let checked = iommugen_dsl::check_source("attr", &synth.text);
        assert!(
            !checked.has_errors(),
            "{}\n{:?}",
            synth.text,
            checked.diagnostics
        );
        let spec = checked.spec.unwrap();
        let d = &spec.drivers[0];
        assert_eq!(d.name, "arm_smmu");
        assert_eq!(d.compatibles, ["arm,mmu-500", "arm,smmu-v2"]);
        assert_eq!(d.cells.allowed, [1, 2]);
        let pt = d.translation.page_table().expect("tables");
        assert_eq!(pt.page_sizes, [4096, 2 << 20]);
        assert!(pt.coherent_walk);
        assert_eq!(pt.pool_tables, 64);
    }

    /// A `check` nested a hundred thousand groups deep lowers without
    /// recursing past the limit and is refused with E0004 on the group where
    /// the limit is passed (mapped back to its token).
    #[test]
    fn deep_check_arguments_are_refused_not_overflowed() {
        use proc_macro2::{Delimiter, Group, TokenTree};
        let mut expr = quote!(stream_id);
        for _ in 0..100_000 {
            expr = TokenStream::from(TokenTree::Group(Group::new(Delimiter::Parenthesis, expr)));
        }
        let args = quote! {
            compatible: ["arm,smmu-v3"],
            cells: 1,
            field stream_id: u32 = cell[0],
            check: #expr < 16,
            id: stream_id,
            page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, pool: 64 },
            init: crate::smmu::probe,
        };
        let ty = Ident::new("Smmu", Span::call_site());
        let (synth, _) = lower(args, &ty, &[]).unwrap();
        let checked = iommugen_dsl::check_source("attr", &synth.text);
        let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [iommugen_dsl::Code::TooDeep], "{:.300}", synth.text);
        let at = checked.diagnostics[0].primary_span().unwrap();
        assert_eq!(&synth.text[at.clone()], "(");
        // The 65th `(` of the check: 64 enclose it.
        let check = synth.text.find("check").unwrap();
        assert_eq!(
            synth.text[check..at.start].matches('(').count(),
            iommugen_dsl::depth::MAX_EXPR_DEPTH
        );
    }

    /// The IR with every span and doc line cleared, for comparing routes.
    fn strip(mut d: iommugen_dsl::ir::Driver) -> iommugen_dsl::ir::Driver {
        use iommugen_dsl::ir::Source;
        d.span = 0..0;
        d.docs.clear();
        d.cells.span = 0..0;
        for f in &mut d.fields {
            f.span = 0..0;
            for s in &mut f.sources {
                match s {
                    Source::Cell { span, .. }
                    | Source::Property { span, .. }
                    | Source::Const { span, .. } => *span = 0..0,
                }
            }
        }
        for x in &mut d.dropped {
            x.span = 0..0;
        }
        for c in &mut d.checks {
            c.span = 0..0;
        }
        for p in &mut d.ids {
            p.span = 0..0;
        }
        if let Some(p) = &mut d.pci {
            p.span = 0..0;
        }
        match &mut d.translation {
            ir::Translation::Tables(pt) => pt.span = 0..0,
            ir::Translation::Requests(r) => r.span = 0..0,
        }
        d.dma.span = 0..0;
        d.init.span = 0..0;
        d
    }

    /// The attribute form of `examples/arm-smmu-v3.iommu`,
    /// `examples/mediatek-m4u.iommu` and `examples/arm-smmu.iommu` (whose
    /// `ignore` is a list) lowers to the very IR of the spec.
    #[test]
    fn attribute_and_spec_give_the_same_ir() {
        let cases = [
            (
                "arm-smmu.iommu",
                "ArmSmmu",
                quote! {
                    compatible: ["arm,smmu-v1", "arm,smmu-v2", "arm,mmu-400", "arm,mmu-401", "arm,mmu-500"],
                    cells: 1 | 2,
                    field stream_id: u16 = cell[0][15:0],
                    field mask: u16 = cell[1][15:0] else property("stream-match-mask")[15:0] else 0,
                    ignore: [cell[0][31:16], cell[1][31:16], property("stream-match-mask")[31:16]],
                    id: mask << 16 | stream_id,
                    pci: iommu_map,
                    page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M, 1G], pool: 256 },
                    init: crate::arm_smmu::probe,
                },
            ),
            (
                "arm-smmu-v3.iommu",
                "ArmSmmuV3",
                quote! {
                    compatible: ["arm,smmu-v3"],
                    cells: 1,
                    field stream_id: u32 = cell[0],
                    check: stream_id < 1 << 20,
                    id: stream_id,
                    pci: iommu_map,
                    page_table: arm_lpae_s1 {
                        granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M, 1G], coherent_walk, pool: 256
                    },
                    dma: { domain: per_device, aperture: 0x1000_0000..0x1_0000_0000 },
                    init: crate::smmu::probe,
                },
            ),
            (
                "mediatek-m4u.iommu",
                "MtkM4u",
                quote! {
                    compatible: ["mediatek,mt8183-m4u"],
                    cells: 1,
                    field larb: u5 = cell[0] >> 5 & 0x1f,
                    field port: u5 = cell[0] & 0x1f,
                    ignore: cell[0][31:10],
                    id: larb << 5 | port,
                    page_table: arm_v7s { mtk_ext, oas: 35, sizes: [4K, 64K, 1M, 16M], pool: 256 },
                    dma: { domain: per_instance, aperture: 0x4000_0000..0x1_0000_0000 },
                    init: crate::mtk::probe,
                },
            ),
            (
                "apple-dart.iommu",
                "AppleDart",
                quote! {
                    compatible: ["apple,t8103-dart"],
                    cells: 1,
                    field stream: u32 = cell[0],
                    check: stream < 16,
                    id: stream,
                    page_table: apple_dart { generation: t8103, pool: 64 },
                    dma: { domain: per_device },
                    init: crate::dart::probe,
                },
            ),
            (
                "rockchip-iommu.iommu#1",
                "RockchipRk3568Iommu",
                quote! {
                    compatible: ["rockchip,rk3568-iommu"],
                    cells: 0,
                    page_table: rockchip { version: 2, pool: 32 },
                    dma: { domain: per_device },
                    init: crate::rockchip::probe,
                },
            ),
            (
                "exynos-sysmmu.iommu",
                "ExynosSysmmu",
                quote! {
                    compatible: ["samsung,exynos-sysmmu"],
                    cells: 0,
                    page_table: exynos_sysmmu { version: 5, pool: 64 },
                    dma: { domain: per_device },
                    init: crate::exynos::probe,
                },
            ),
            (
                "sun50i-iommu.iommu",
                "Sun50iIommu",
                quote! {
                    compatible: ["allwinner,sun50i-h6-iommu", "allwinner,sun20i-d1-iommu"],
                    cells: 1,
                    field master: u32 = cell[0],
                    check: master < 6,
                    id: master,
                    page_table: sun50i { pool: 64 },
                    dma: { domain: per_device },
                    init: crate::sun50i::probe,
                },
            ),
            (
                "ipmmu-vmsa.iommu#1",
                "IpmmuRcarGen3",
                quote! {
                    compatible: [
                        "renesas,ipmmu-r8a7795", "renesas,ipmmu-r8a7796", "renesas,ipmmu-r8a77961",
                        "renesas,ipmmu-r8a77965", "renesas,ipmmu-r8a77970", "renesas,ipmmu-r8a77980",
                        "renesas,ipmmu-r8a77990", "renesas,ipmmu-r8a77995",
                        "renesas,ipmmu-r8a774a1", "renesas,ipmmu-r8a774b1", "renesas,ipmmu-r8a774c0",
                        "renesas,ipmmu-r8a774e1"
                    ],
                    cells: 1,
                    field utlb: u32 = cell[0],
                    check: utlb < 48,
                    id: utlb,
                    page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, sizes: [4K, 2M, 1G], pool: 64 },
                    init: crate::ipmmu::probe,
                },
            ),
        ];
        for (file, ty, args) in cases {
            // `FILE#N`: the spec's driver N (default the first).
            let (file, index) = match file.split_once('#') {
                Some((f, n)) => (f, n.parse::<usize>().unwrap()),
                None => (file, 0),
            };
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../examples")
                .join(file);
            let text = std::fs::read_to_string(path).unwrap();
            let from_spec = iommugen_dsl::check_source(file, &text).spec.unwrap();
            let ty = Ident::new(ty, Span::call_site());
            let (synth, _) = lower(args, &ty, &[]).unwrap();
            let from_attr = iommugen_dsl::check_source("attr", &synth.text)
                .spec
                .unwrap();
            assert_eq!(
                strip(from_attr.drivers[0].clone()),
                strip(from_spec.drivers[index].clone()),
                "{file}"
            );
        }
    }
}

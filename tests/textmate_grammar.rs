//! The TextMate grammar shipped for editors (`editors/vscode/syntaxes/
//! iommu.tmLanguage.json`) against the language itself: run by a small
//! TextMate-style scanner (rules tried in order, the leftmost match wins,
//! ties to the earlier rule; `begin`/`end` regions across lines), every
//! token the DSL's own lexer finds in every shipped spec gets a scope of
//! the right family, nothing in them is marked invalid, and every keyword,
//! format and value name the checker knows is highlighted as one.

use std::collections::HashMap;
use std::path::Path;

use iommugen_dsl::lex::{self, Kind};
use iommugen_dsl::parse::{DMA_ITEMS, DRIVER_ITEMS, PAGE_TABLE_ITEMS};
use iommugen_runtime::pgtable::legal::{apple_dart, tegra_smmu, FormatName};
use regex::Regex;
use serde_json::Value;

enum Rule {
    Match {
        re: Regex,
        name: Option<String>,
        captures: Vec<(usize, String)>,
    },
    Region {
        begin: Regex,
        end: Regex,
        name: String,
        inner: Vec<Rule>,
    },
}

fn grammar() -> Vec<Rule> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/syntaxes/iommu.tmLanguage.json");
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the grammar")).expect("JSON");
    assert_eq!(g["scopeName"], "source.iommu");
    rules(&g["patterns"], &g["repository"])
}

fn rules(list: &Value, repo: &Value) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in list.as_array().expect("a pattern list") {
        if let Some(inc) = p["include"].as_str() {
            let key = inc.strip_prefix('#').expect("repository include");
            out.extend(rules(&repo[key]["patterns"], repo));
            continue;
        }
        let re = |k: &str| {
            Regex::new(p[k].as_str().expect("a regex")).expect("a regex Rust can compile")
        };
        let name = p["name"].as_str().map(str::to_owned);
        if p.get("begin").is_some() {
            out.push(Rule::Region {
                begin: re("begin"),
                end: re("end"),
                name: name.expect("a named region"),
                inner: p.get("patterns").map_or_else(Vec::new, |i| rules(i, repo)),
            });
        } else {
            let captures =
                p.get("captures")
                    .and_then(Value::as_object)
                    .map_or_else(Vec::new, |c| {
                        c.iter()
                            .map(|(k, v)| {
                                (
                                    k.parse().expect("group"),
                                    v["name"].as_str().expect("name").to_owned(),
                                )
                            })
                            .collect()
                    });
            out.push(Rule::Match {
                re: re("match"),
                name,
                captures,
            });
        }
    }
    out
}

/// The leftmost match among `rules` at or after `pos`; ties to the first.
fn first<'r>(rules: &'r [Rule], line: &str, pos: usize) -> Option<(usize, &'r Rule)> {
    let start = |r: &Rule| match r {
        Rule::Match { re, .. } => re.find_at(line, pos).map(|m| m.start()),
        Rule::Region { begin, .. } => begin.find_at(line, pos).map(|m| m.start()),
    };
    rules
        .iter()
        .filter_map(|r| start(r).map(|s| (s, r)))
        .min_by_key(|(s, _)| *s)
}

/// Scope of every byte of `text` (innermost), `None` where no rule matched.
fn scopes(rules: &[Rule], text: &str) -> Vec<Option<String>> {
    let mut out = vec![None; text.len()];
    let mut open: Option<&Rule> = None;
    let mut line_start = 0;
    for line in text.split('\n') {
        let mut pos = 0;
        let set = |out: &mut Vec<Option<String>>, a: usize, b: usize, s: &str| {
            for o in &mut out[line_start + a..line_start + b] {
                *o = Some(s.to_owned());
            }
        };
        while pos <= line.len() {
            if let Some(Rule::Region {
                end, name, inner, ..
            }) = open
            {
                let e = end.find_at(line, pos);
                let i = first(inner, line, pos);
                match (e, i) {
                    (e, Some((s, Rule::Match { re, name: n, .. })))
                        if e.is_none_or(|e| s < e.start()) =>
                    {
                        let m = re.find_at(line, s).expect("matched");
                        set(&mut out, pos, m.start(), name);
                        set(&mut out, m.start(), m.end(), n.as_deref().unwrap_or(name));
                        pos = m.end().max(pos + 1);
                    }
                    (Some(e), _) => {
                        set(&mut out, pos, e.end(), name);
                        pos = e.end();
                        open = None;
                        if e.is_empty() {
                            break;
                        }
                    }
                    _ => {
                        set(&mut out, pos, line.len(), name);
                        break;
                    }
                }
                continue;
            }
            let Some((s, rule)) = first(rules, line, pos) else {
                break;
            };
            match rule {
                Rule::Match { re, name, captures } => {
                    let c = re.captures_at(line, s).expect("matched");
                    let m = c.get(0).expect("whole match");
                    if let Some(n) = name {
                        set(&mut out, m.start(), m.end(), n);
                    }
                    for (g, n) in captures {
                        if let Some(cm) = c.get(*g) {
                            set(&mut out, cm.start(), cm.end(), n);
                        }
                    }
                    if m.is_empty() {
                        pos = s + 1;
                    } else {
                        pos = m.end();
                    }
                }
                Rule::Region { begin, name, .. } => {
                    let m = begin.find_at(line, s).expect("matched");
                    set(&mut out, m.start(), m.end(), name);
                    pos = m.end();
                    open = Some(rule);
                }
            }
        }
        line_start += line.len() + 1;
    }
    out
}

fn shipped() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).expect("examples") {
            let p = e.expect("an entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "iommu") {
                let text = std::fs::read_to_string(&p).expect("a spec");
                out.push((p.display().to_string(), text));
            }
        }
    }
    assert!(out.len() >= 8, "the shipped specs");
    out
}

fn keywords() -> Vec<&'static str> {
    let mut k: Vec<&str> = [DRIVER_ITEMS, PAGE_TABLE_ITEMS, DMA_ITEMS].concat();
    k.extend([
        "driver",
        "cell",
        "property",
        "master",
        "else",
        "where",
        "iommu-map",
        "masters",
        "soc",
        "revision",
    ]);
    k
}

#[test]
fn every_token_of_every_shipped_spec_gets_a_scope_of_its_kind() {
    let rules = grammar();
    let kw = keywords();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (file, text) in shipped() {
        let sc = scopes(&rules, &text);
        for t in lex::tokens(&text) {
            if t.kind.is_layout() {
                continue;
            }
            let word = t.text(&text);
            let span = t.span.clone();
            for (i, s) in sc[span.clone()].iter().enumerate() {
                assert!(
                    s.is_some(),
                    "{file}: byte {} of {word:?} has no scope",
                    t.span.start + i
                );
            }
            let s = sc[t.span.start].as_deref().unwrap_or_default();
            assert!(!s.starts_with("invalid"), "{file}: {word:?} marked {s}");
            let allowed: &[&str] = match t.kind {
                Kind::DocComment => &["comment.line.documentation"],
                Kind::LineComment => &["comment.line.double-slash"],
                Kind::BlockComment => &["comment.block"],
                Kind::Str => &["string.quoted.double"],
                Kind::Number => &["constant.numeric"],
                // `master` is a keyword only before `property`; it is also
                // a field name (sun50i-iommu.iommu).
                // A keyword after `-` is the tail of a dashed value
                // (`per-group`), which takes the value's scope.
                Kind::Ident
                    if kw.contains(&word)
                        && word != "master"
                        && !text[..t.span.start].ends_with('-') =>
                {
                    &["keyword."]
                }
                Kind::Ident => &[
                    "keyword.",
                    "support.type.format",
                    "constant.language",
                    "storage.type",
                    "entity.name",
                    "variable.",
                ],
                // `-` inside a dashed word takes the word's scope.
                Kind::Punct => &[
                    "punctuation.",
                    "keyword.",
                    "support.type.format",
                    "constant.language",
                ],
                _ => &[],
            };
            assert!(
                allowed.iter().any(|a| s.starts_with(a)),
                "{file}: {:?} {word:?} got {s}",
                t.kind
            );
            *seen
                .entry(s.split('.').next().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    // The specs exercise the grammar broadly, not through one catch-all.
    for family in [
        "comment",
        "string",
        "keyword",
        "support",
        "constant",
        "storage",
        "entity",
        "variable",
        "punctuation",
    ] {
        assert!(
            seen.get(family).copied().unwrap_or(0) > 0,
            "no {family} scope in the shipped specs: {seen:?}"
        );
    }
}

/// The grammar keeps up with the checker: a keyword, format, generation or
/// domain policy added to the language without it fails here.
#[test]
fn every_name_the_checker_knows_is_highlighted_as_one() {
    let rules = grammar();
    let mut cases: Vec<(String, &str)> = keywords()
        .into_iter()
        .map(|k| (k.to_owned(), "keyword."))
        .collect();
    for f in FormatName::ALL {
        cases.push((f.dsl_name().to_owned(), "support.type.format"));
    }
    cases.push(("virtio-iommu".to_owned(), "support.type.format"));
    for g in apple_dart::GENERATIONS
        .iter()
        .chain(&tegra_smmu::GENERATIONS)
    {
        cases.push(((*g).to_owned(), "constant.language"));
    }
    // dsl/src/check/dma.rs: the two `domain` policies.
    for p in ["per-device", "per-instance"] {
        cases.push((p.to_owned(), "constant.language"));
    }
    for (word, family) in cases {
        // `master` is a keyword only as `master property`.
        let after = if word == "master" { " property" } else { "" };
        let line = format!("x {word}{after} y");
        let sc = scopes(&rules, &line);
        for (i, s) in sc[2..2 + word.len()].iter().enumerate() {
            let s = s.as_deref().unwrap_or_default();
            assert!(
                s.starts_with(family),
                "{word:?} byte {i}: {s}, not {family}"
            );
        }
        assert_eq!(
            sc[0].as_deref(),
            Some("variable.other.iommu"),
            "{word}: context"
        );
    }
    // Other characters are invalid; `////` is a plain comment, `///` a doc one.
    let sc = scopes(&rules, "@ //// a\n/// b\n/* c\n d */ \"e\\\"f\"");
    assert_eq!(sc[0].as_deref(), Some("invalid.illegal.iommu"));
    assert_eq!(sc[2].as_deref(), Some("comment.line.double-slash.iommu"));
    assert_eq!(sc[9].as_deref(), Some("comment.line.documentation.iommu"));
    assert_eq!(
        sc[20].as_deref(),
        Some("comment.block.iommu"),
        "inside a block comment"
    );
    assert_eq!(sc[25], None, "layout between tokens");
    assert_eq!(sc[27].as_deref(), Some("string.quoted.double.iommu"));
    assert_eq!(sc[28].as_deref(), Some("constant.character.escape.iommu"));
    assert_eq!(
        sc[30].as_deref(),
        Some("string.quoted.double.iommu"),
        "the escaped quote did not end it"
    );
}

//! `allow masters` and `deny soc`: which masters a driver lets attach.
//!
//! Names are compared with Linux's `dev_name(dev)` exactly (`strcmp` in
//! Renesas IPMMU's `ipmmu_device_is_allowed`), so a name Linux never
//! makes would silently match nothing: such names are refused here. Linux
//! names a platform device `ADDR.NODE` (`%llx`: lower-case hex, no `0x`,
//! no leading zeros) or, without a translatable `reg`, by the node names
//! of its chain joined with `:`; node names use the characters the
//! Devicetree Specification allows (`[A-Za-z0-9,._+-]`, `@` before a unit
//! address).

use crate::ast::{DeniedSocAst, DriverAst, ItemKind, Str};
use crate::diag::{Code, Diagnostic};
use crate::ir;

/// The driver's master policy; problems are reported into `diags`.
pub(super) fn policy(d: &DriverAst, diags: &mut Vec<Diagnostic>) -> ir::MasterPolicy {
    let allow = super::single(d, "allow", diags).and_then(|item| match &item.kind {
        ItemKind::AllowMasters(names) => Some(ir::AllowList {
            names: names_of(names, diags),
            span: item.span.clone(),
        }),
        _ => None,
    });
    let deny = match super::single(d, "deny", diags).map(|i| &i.kind) {
        Some(ItemKind::DenySocs(socs)) => denied(socs, diags),
        _ => Vec::new(),
    };
    ir::MasterPolicy { allow, deny }
}

/// A character of a node name (Devicetree Specification 2.2.1), or `@`.
fn node_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ',' | '.' | '_' | '+' | '-' | '@')
}

/// Why `name` is not one Linux gives a platform device, if it is not.
fn bad_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an empty name matches no device".into());
    }
    if let Some(c) = name.chars().find(|&c| !node_char(c) && c != ':') {
        return Some(format!(
            "`{c}` is in no device name (node names use letters, digits and `,._+-@`, joined by `:`)"
        ));
    }
    if name.split(':').any(str::is_empty) {
        return Some("`:` joins node names; none may be empty".into());
    }
    // `ADDR.NODE`: the address as Linux's `%llx` prints it.
    let first = name.split(':').next().unwrap_or(name);
    if let Some((addr, node)) = first.split_once('.') {
        let hex = addr.strip_prefix("0x").unwrap_or(addr);
        if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) && !node.is_empty() {
            // What `%llx` prints for this address.
            let lower = hex.to_ascii_lowercase();
            let digits = lower.trim_start_matches('0');
            let canonical = if digits.is_empty() { "0" } else { digits };
            let why = if addr.starts_with("0x") {
                "without `0x`"
            } else if hex.chars().any(|c| c.is_ascii_uppercase()) {
                "in lower case"
            } else if canonical != hex {
                "without leading zeros"
            } else {
                return None;
            };
            let rest = &name[first.len()..];
            return Some(format!(
                "Linux prints the address {why}: `{canonical}.{node}{rest}`"
            ));
        }
    }
    None
}

fn names_of(names: &[Str], diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out: Vec<&Str> = Vec::with_capacity(names.len());
    for n in names {
        if let Some(why) = bad_name(&n.value) {
            diags.push(
                Diagnostic::new(
                    Code::BadMasterName,
                    format!("\"{}\" is not a device name Linux makes", n.value),
                    n.span.clone(),
                    "matches no master",
                )
                .help(format!(
                    "{why}; a platform master is named like `ee100000.mmc` (its translated `reg` address, a dot, its node name)"
                )),
            );
            continue;
        }
        if let Some(first) = out.iter().find(|f| f.value == n.value) {
            diags.push(duplicate(&n.value, n, first, "name"));
            continue;
        }
        out.push(n);
    }
    out.into_iter().map(|n| n.value.clone()).collect()
}

fn duplicate(what: &str, again: &Str, first: &Str, kind: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateListEntry,
        format!("\"{what}\" is listed twice"),
        again.span.clone(),
        "listed again here",
    )
    .secondary(first.span.clone(), "first listed here")
    .help(format!("keep one of each {kind}"))
}

fn denied(socs: &[DeniedSocAst], diags: &mut Vec<Diagnostic>) -> Vec<ir::DeniedSoc> {
    let mut out: Vec<&DeniedSocAst> = Vec::with_capacity(socs.len());
    for s in socs {
        let m = &s.machine.value;
        // A root compatible is `vendor,model`, like every compatible.
        let machine_ok = m
            .split_once(',')
            .is_some_and(|(v, model)| !v.is_empty() && !model.is_empty())
            && m.chars().all(|c| node_char(c) && c != '@');
        if !machine_ok {
            diags.push(
                Diagnostic::new(
                    Code::BadDeniedSoc,
                    format!("\"{m}\" is not a machine compatible"),
                    s.machine.span.clone(),
                    "no root node says this",
                )
                .help(
                    "name the SoC as its root node's compatible does, e.g. `\"renesas,r8a7796\"`",
                ),
            );
            continue;
        }
        if let Some(r) = &s.revision {
            if r.value.is_empty() || r.value.chars().any(char::is_whitespace) {
                diags.push(
                    Diagnostic::new(
                        Code::BadDeniedSoc,
                        format!("\"{}\" is not a revision pattern", r.value),
                        r.span.clone(),
                        "matches no revision",
                    )
                    .help("write the revision as Linux's soc_device_attribute does, e.g. `revision \"ES2.*\"`"),
                );
                continue;
            }
        }
        if let Some(first) = out
            .iter()
            .find(|f| f.machine.value == *m && f.revision == s.revision)
        {
            diags.push(duplicate(m, &s.machine, &first.machine, "SoC and revision"));
            continue;
        }
        out.push(s);
    }
    out.into_iter()
        .map(|s| ir::DeniedSoc {
            machine: s.machine.value.clone(),
            revision: s.revision.as_ref().map(|r| r.value.clone()),
            span: s.span.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::bad_name;

    #[test]
    fn names_linux_makes() {
        for ok in [
            "ee100000.mmc",
            "firmware:optee",
            "e6500000.i2c:codec@10",
            "0.cpu",
        ] {
            assert_eq!(bad_name(ok), None, "{ok}");
        }
        for bad in [
            "",
            "EE100000.mmc",
            "0xee100000.mmc",
            "0ee100000.mmc",
            "ee100000 mmc",
            "a::b",
            "/soc/mmc@ee100000",
        ] {
            assert!(bad_name(bad).is_some(), "{bad}");
        }
    }
}

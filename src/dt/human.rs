//! The report for people: the specs used, then IOMMUs, masters and RIDs.

use std::fmt::Write as _;

use iommugen_dsl::render::{Cap, HumanStyle};

use super::excerpt::{self, Prepared, SourceTexts};
use super::report::{IommuStatus, MasterEntry, PciEntry, Report};
use super::source::SourceLocation;
use super::translation::{Reason, Translation};

fn hex_list(ids: &[u32]) -> String {
    let ids: Vec<String> = ids.iter().map(|id| format!("{id:#x}")).collect();
    ids.join(", ")
}

fn cells(cells: &[u32]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| format!("{c:#x}")).collect();
    format!("<{}>", cells.join(" "))
}

impl Report {
    /// A readable report, one block per master; diagnostics as one line
    /// each (no source texts: see [`Report::to_human_with`]).
    pub fn to_human(&self) -> String {
        self.to_human_with(&SourceTexts::new(), HumanStyle::default())
    }

    /// The readable report, each located diagnostic whose file is in
    /// `texts` drawn as `iommugen check` draws its own (miette, an excerpt
    /// of the line with the property or node labelled; colour as `style`
    /// says); the others as `file:line:col: severity[code]: message`
    /// lines. Like `check`, the first [`iommugen_dsl::render::SHOWN`]
    /// diagnostics are shown and the rest counted.
    pub fn to_human_with(&self, texts: &SourceTexts, style: HumanStyle) -> String {
        let report = self;
        let mut out = String::new();
        let _ = writeln!(out, "Specs ({}):", report.specs.len());
        for s in &report.specs {
            let _ = writeln!(out, "  {s}");
        }
        if let Some(rev) = &report.soc_revision {
            let _ = writeln!(out, "\nSoC revision: {rev} (--soc-revision)");
        }
        let _ = writeln!(out, "\nIOMMUs ({}):", report.iommus.len());
        for i in &report.iommus {
            let status = match &i.status {
                IommuStatus::Initialised => "initialised".to_string(),
                IommuStatus::Disabled => "disabled".to_string(),
                IommuStatus::Unclaimed => "unclaimed (no spec claims it)".to_string(),
                IommuStatus::Failed(e) => format!("FAILED: {e}"),
            };
            let _ = writeln!(
                out,
                "  {}  [{}]  {status}{}",
                i.path,
                i.driver.as_deref().unwrap_or("-"),
                at(i.source.as_ref())
            );
            if i.cache {
                let main = i.main.as_deref().unwrap_or("none in the tree");
                let _ = writeln!(out, "    cache instance of main {main}");
            }
            if !i.caches.is_empty() {
                let _ = writeln!(out, "    main instance of {}", i.caches.join(", "));
            }
        }
        for u in &report.contexts {
            let _ = writeln!(
                out,
                "  {}: {} of {} translation contexts ({} reserved) held, {} domains needed",
                u.iommu, u.held, u.total, u.reserved, u.needed
            );
        }
        let _ = writeln!(out, "\nMasters ({}):", report.masters.len());
        for m in &report.masters {
            master(&mut out, m);
        }
        if !report.pci.is_empty() {
            let _ = writeln!(out, "\nPCI:");
            for p in &report.pci {
                pci(&mut out, p);
            }
        }
        let errors = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == "error")
            .count();
        let warnings = report.diagnostics.len() - errors;
        let _ = writeln!(
            out,
            "\n{} IOMMUs, {} masters, {} domains: {errors} errors, {warnings} warnings",
            report.iommus.len(),
            report.masters.len(),
            report.domains
        );
        let files = Prepared::new(texts, &report.diagnostics);
        let mut cap = Cap::default();
        // A drawn excerpt stands between blank lines.
        let mut after_drawing = false;
        for d in &report.diagnostics {
            if !cap.admit_severity(excerpt::severity(d)) {
                continue;
            }
            if let Some((file, label)) = files.label(d) {
                let labels = [label];
                let drawn = file.human_item(excerpt::item(d, &labels), style);
                let _ = writeln!(out, "\n{}", drawn.trim_end());
                after_drawing = true;
                continue;
            }
            if std::mem::take(&mut after_drawing) {
                out.push('\n');
            }
            // file:line:col first, as compilers print it (editors jump there).
            if let Some(s) = &d.source {
                let _ = write!(out, "{s}: ");
            }
            let _ = writeln!(out, "{}[{}]: {}", d.severity, d.code, d.message);
        }
        if let Some(left_off) = cap.summary() {
            if after_drawing {
                out.push('\n');
            }
            let _ = writeln!(out, "{left_off}");
        }
        out
    }
}

/// `  (file:line:col)` after a node's path, when it is located.
fn at(source: Option<&SourceLocation>) -> String {
    source.map_or_else(String::new, |s| format!("  ({s})"))
}

fn master(out: &mut String, m: &MasterEntry) {
    let _ = writeln!(out, "  {}{}", m.path, at(m.source.as_ref()));
    if let Some(e) = &m.error {
        let _ = writeln!(out, "    ERROR: {e}");
    }
    for (iommu, ids) in &m.translations {
        let ids = if ids.is_empty() {
            "(no IDs: known by phandle)".into()
        } else {
            hex_list(ids)
        };
        let _ = writeln!(out, "    via {iommu}: {ids}");
        for s in m.specifiers.iter().filter(|s| &s.iommu == iommu) {
            let _ = writeln!(
                out,
                "      specifier {} -> {}",
                cells(&s.cells),
                if s.ids.is_empty() {
                    "(no IDs)".into()
                } else {
                    hex_list(&s.ids)
                }
            );
        }
    }
    if let Some(n) = &m.note {
        let _ = writeln!(out, "    {n}");
    }
    let window = match m.dma_window {
        Some((b, s)) => format!("{b:#x} + {s:#x} (mask {:#x})", m.dma_mask),
        None => "unlimited".into(),
    };
    let group = m
        .group
        .as_ref()
        .map(|g| format!(", group {g}"))
        .unwrap_or_default();
    let ops = match (m.translation, m.domain) {
        (_, Some(d)) => format!("IOMMU, domain #{d}{group}"),
        (Translation::Direct, None) if m.group.is_some() => {
            format!("identity (untranslated){group}")
        }
        // Every specifier was accepted, so say which step refused.
        (Translation::Direct, None)
            if m.untranslated
                .as_ref()
                .is_some_and(|u| u.reason == Reason::ProbeRefused) =>
        {
            "direct (untranslated, probe-refused)".into()
        }
        (Translation::Direct, None) => "direct (untranslated)".into(),
        (Translation::Deferred, None) => "deferred, then direct (untranslated)".into(),
        _ => "none".into(),
    };
    let _ = writeln!(
        out,
        "    coherent: {}  window: {window}  ops: {ops}",
        if m.dma_coherent { "yes" } else { "no" }
    );
}

fn pci(out: &mut String, p: &PciEntry) {
    let target = match (&p.iommu, p.id, p.translation) {
        (Some(i), Some(id), Translation::Iommu) => {
            format!("{i} ID {id:#x}, fwspec IDs [{}]", hex_list(&p.ids))
        }
        (Some(i), Some(id), _) => format!("{i} ID {id:#x}, untranslated"),
        _ => "untranslated".into(),
    };
    let _ = writeln!(out, "  {} RID {:#x} -> {target}", p.host, p.rid);
    match (&p.error, &p.untranslated) {
        // The error already says why; name what Linux does about it.
        (Some(e), Some(u)) => {
            let _ = writeln!(out, "    ERROR: {e}");
            let _ = writeln!(
                out,
                "    translation: {} ({})",
                p.translation.as_str(),
                u.reason.as_str()
            );
        }
        (Some(e), None) => {
            let _ = writeln!(out, "    ERROR: {e}");
        }
        (None, Some(u)) => {
            let _ = writeln!(
                out,
                "    untranslated ({}): {}",
                u.reason.as_str(),
                u.message
            );
        }
        (None, None) => {}
    }
}

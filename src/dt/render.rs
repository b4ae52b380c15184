//! The report's two renderings: the stable JSON form and the human one.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::report::{IommuStatus, Report};

impl Report {
    /// The stable JSON form (documented in the book's boot-flow chapter).
    pub fn to_json(&self, file: &str, spec_diagnostics: Vec<Value>) -> Value {
        let report = self;
        let iommus: Vec<Value> = report
            .iommus
            .iter()
            .map(|i| {
                let (status, error) = match &i.status {
                    IommuStatus::Initialised => ("initialised", None),
                    IommuStatus::Disabled => ("disabled", None),
                    IommuStatus::Unclaimed => ("unclaimed", None),
                    IommuStatus::Failed(e) => ("failed", Some(e.clone())),
                };
                json!({ "path": i.path, "driver": i.driver, "status": status, "error": error })
            })
            .collect();
        let masters: Vec<Value> = report
        .masters
        .iter()
        .map(|m| {
            json!({
                "path": m.path,
                "translations": m.translations.iter().map(|(iommu, ids)| json!({ "iommu": iommu, "ids": ids })).collect::<Vec<_>>(),
                "dma_coherent": m.dma_coherent,
                "dma_window": m.dma_window.map(|(base, size)| json!({ "base": base, "size": size })),
                "error": m.error,
            })
        })
        .collect();
        let pci: Vec<Value> = report
        .pci
        .iter()
        .map(|p| json!({ "host": p.host, "rid": p.rid, "iommu": p.iommu, "id": p.id, "error": p.error }))
        .collect();
        let mut diagnostics = spec_diagnostics;
        diagnostics.extend(report.diagnostics.iter().map(|d| {
            json!({
                "file": file,
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "help": d.help,
                "labels": [],
            })
        }));
        json!({ "iommus": iommus, "masters": masters, "pci": pci, "diagnostics": diagnostics })
    }

    /// A readable report, one block per master.
    pub fn to_human(&self) -> String {
        let report = self;
        let mut out = String::new();
        let _ = writeln!(out, "IOMMUs ({}):", report.iommus.len());
        for i in &report.iommus {
            let status = match &i.status {
                IommuStatus::Initialised => "initialised".to_string(),
                IommuStatus::Disabled => "disabled".to_string(),
                IommuStatus::Unclaimed => "unclaimed (no spec claims it)".to_string(),
                IommuStatus::Failed(e) => format!("FAILED: {e}"),
            };
            let _ = writeln!(
                out,
                "  {}  [{}]  {status}",
                i.path,
                i.driver.as_deref().unwrap_or("-")
            );
        }
        let _ = writeln!(out, "\nMasters ({}):", report.masters.len());
        for m in &report.masters {
            let _ = writeln!(out, "  {}", m.path);
            if let Some(e) = &m.error {
                let _ = writeln!(out, "    ERROR: {e}");
            }
            for (iommu, ids) in &m.translations {
                let ids: Vec<String> = ids.iter().map(|id| format!("{id:#x}")).collect();
                let ids = if ids.is_empty() {
                    "(no IDs: known by phandle)".into()
                } else {
                    ids.join(", ")
                };
                let _ = writeln!(out, "    via {iommu}: {ids}");
            }
            if let Some(n) = &m.note {
                let _ = writeln!(out, "    {n}");
            }
            let window = match m.dma_window {
                Some((b, s)) => format!("{b:#x} + {s:#x} (mask {:#x})", m.dma_mask),
                None => "unlimited".into(),
            };
            let ops = match m.domain {
                Some(d) => format!("IOMMU, domain #{d}"),
                None if m.error.is_some() => "none".into(),
                None => "direct".into(),
            };
            let _ = writeln!(
                out,
                "    coherent: {}  window: {window}  ops: {ops}",
                if m.dma_coherent { "yes" } else { "no" }
            );
        }
        if !report.pci.is_empty() {
            let _ = writeln!(out, "\nPCI:");
            for p in &report.pci {
                let target = match (&p.iommu, p.id) {
                    (Some(i), Some(id)) => format!("{i} ID {id:#x}"),
                    _ => "untranslated".into(),
                };
                let _ = writeln!(out, "  {} RID {:#x} -> {target}", p.host, p.rid);
                if let Some(e) = &p.error {
                    let _ = writeln!(out, "    ERROR: {e}");
                } else if let Some(n) = &p.note {
                    if p.iommu.is_none() || n.contains("disabled") {
                        let _ = writeln!(out, "    {n}");
                    }
                }
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
        for d in &report.diagnostics {
            let _ = writeln!(out, "{}[{}]: {}", d.severity, d.code, d.message);
        }
        out
    }
}

//! The report's stable JSON form (the human one is in `human.rs`).

use serde_json::{json, Value};

use super::report::{IommuStatus, MasterEntry, Report};
use super::translation::Untranslated;

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
        let masters: Vec<Value> = report.masters.iter().map(master_json).collect();
        let pci: Vec<Value> = report
            .pci
            .iter()
            .map(|p| {
                json!({
                    "host": p.host, "rid": p.rid, "iommu": p.iommu, "id": p.id, "ids": p.ids,
                    "translation": p.translation.as_str(),
                    "untranslated": untranslated_json(p.untranslated.as_ref()),
                    "error": p.error,
                })
            })
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
        json!({
            "specs": report.specs,
            "iommus": iommus,
            "masters": masters,
            "pci": pci,
            "diagnostics": diagnostics,
        })
    }
}

fn untranslated_json(u: Option<&Untranslated>) -> Value {
    u.map_or(
        Value::Null,
        |u| json!({ "reason": u.reason.as_str(), "message": u.message }),
    )
}

fn master_json(m: &MasterEntry) -> Value {
    let translations: Vec<Value> = m
        .translations
        .iter()
        .map(|(iommu, ids)| {
            let specifiers: Vec<Value> = m
                .specifiers
                .iter()
                .filter(|s| &s.iommu == iommu)
                .map(|s| json!({ "cells": s.cells, "ids": s.ids }))
                .collect();
            json!({ "iommu": iommu, "ids": ids, "specifiers": specifiers })
        })
        .collect();
    json!({
        "path": m.path,
        "translation": m.translation.as_str(),
        "untranslated": untranslated_json(m.untranslated.as_ref()),
        "translations": translations,
        "dma_coherent": m.dma_coherent,
        "dma_window": m.dma_window.map(|(base, size)| json!({ "base": base, "size": size })),
        "dma_mask": m.dma_mask,
        "domain": m.domain,
        "error": m.error,
    })
}

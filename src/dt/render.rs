//! The report's stable JSON form (the human one is in `human.rs`).

use serde_json::{json, Value};

use super::excerpt::{Prepared, SourceTexts};
use super::report::{IommuStatus, MasterEntry, Report};
use super::source::SourceLocation;
use super::translation::Untranslated;

/// `value` with `"source": {file, line, column}` added when located (a
/// `.dtb` has no locations: the field is absent).
fn located(mut value: Value, source: Option<&SourceLocation>) -> Value {
    if let (Some(s), Some(map)) = (source, value.as_object_mut()) {
        map.insert(
            "source".into(),
            json!({ "file": &*s.file, "line": s.line, "column": s.column }),
        );
    }
    value
}

impl Report {
    /// The stable JSON form (documented in the book's boot-flow chapter),
    /// without source texts: tree diagnostics have no `labels`.
    pub fn to_json(&self, file: &str, spec_diagnostics: Vec<Value>) -> Value {
        self.to_json_with(file, spec_diagnostics, &SourceTexts::new())
    }

    /// The JSON form; a located tree diagnostic whose file is in `texts`
    /// gets one primary label in `check`'s shape (offsets, characters and
    /// UTF-16 columns in the file its `source` names).
    pub fn to_json_with(
        &self,
        file: &str,
        spec_diagnostics: Vec<Value>,
        texts: &SourceTexts,
    ) -> Value {
        let report = self;
        let files = Prepared::new(texts, &report.diagnostics);
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
                let mut v =
                    json!({ "path": i.path, "driver": i.driver, "status": status, "error": error });
                // Only for drivers whose spec says `main property`.
                if i.cache {
                    v["main"] = json!(i.main);
                }
                if !i.caches.is_empty() {
                    v["caches"] = json!(i.caches);
                }
                located(v, i.source.as_ref())
            })
            .collect();
        let masters: Vec<Value> = report.masters.iter().map(master_json).collect();
        let pci: Vec<Value> = report
            .pci
            .iter()
            .map(|p| {
                let v = json!({
                    "host": p.host, "rid": p.rid, "iommu": p.iommu, "id": p.id, "ids": p.ids,
                    "translation": p.translation.as_str(),
                    "untranslated": untranslated_json(p.untranslated.as_ref()),
                    "error": p.error,
                });
                located(v, p.source.as_ref())
            })
            .collect();
        let mut diagnostics = spec_diagnostics;
        diagnostics.extend(report.diagnostics.iter().map(|d| {
            let labels: Vec<Value> = files
                .label(d)
                .map(|(f, label)| f.json_label(&label))
                .into_iter()
                .collect();
            let v = json!({
                "file": file,
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "help": d.help,
                "labels": labels,
            });
            located(v, d.source.as_ref())
        }));
        json!({
            "specs": report.specs,
            "soc_revision": report.soc_revision,
            "contexts": report.contexts.iter().map(|u| json!({
                "iommu": u.iommu, "total": u.total, "reserved": u.reserved,
                "held": u.held, "needed": u.needed,
            })).collect::<Vec<_>>(),
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
    let v = json!({
        "path": m.path,
        "translation": m.translation.as_str(),
        "untranslated": untranslated_json(m.untranslated.as_ref()),
        "translations": translations,
        "dma_coherent": m.dma_coherent,
        "dma_window": m.dma_window.map(|(base, size)| json!({ "base": base, "size": size })),
        "dma_mask": m.dma_mask,
        "domain": m.domain,
        "group": m.group,
        "iova": m.iova.map(|(first, last)| json!({ "first": first, "last": last })),
        "error": m.error,
    });
    located(v, m.source.as_ref())
}

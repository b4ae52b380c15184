//! `iommugen dt --format json` for the real-tree tests, and the pieces of
//! the report they read.

use serde_json::Value;

/// Exit status and report of `iommugen dt --format json EXTRA… PATH`
/// (the caller has made sure dtc is there).
pub fn dt_json(path: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["dt", "--format", "json"];
    args.extend(extra);
    args.push(path);
    let out = super::iommugen(&args);
    let text = super::stdout(&out);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", super::stderr(&out)));
    (out.status.code().unwrap_or(-1), v)
}

/// The entry of `list` (`masters`, `iommus`, …) with this `path`.
pub fn find<'a>(v: &'a Value, list: &str, path: &str) -> &'a Value {
    v[list]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["path"] == path))
        .unwrap_or_else(|| panic!("no {path} in {list}: {v:#}"))
}

/// `[(iommu, [ids])]` of a master.
pub fn translations(m: &Value) -> Vec<(String, Vec<u64>)> {
    m["translations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    let ids = t["ids"]
                        .as_array()
                        .map_or(vec![], |ids| ids.iter().filter_map(Value::as_u64).collect());
                    (t["iommu"].as_str().unwrap_or("").to_owned(), ids)
                })
                .collect()
        })
        .unwrap_or_default()
}

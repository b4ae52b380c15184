//! `iommugen check` end to end: exit codes, output formats, file handling.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn iommugen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("iommugen-check-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const GOOD: &str = "driver d {\n    compatible \"v,x\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::d::probe;\n}\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn shipped_examples_are_clean() {
    let o = iommugen(&["check", "examples/"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // At least the six family specs; other examples may add more.
    assert!(
        stderr(&o).contains(" files: 0 errors, 0 warnings"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn errors_exit_1_with_code_and_location() {
    let dir = scratch("errors");
    let f = write(&dir, "bad.iommu", &GOOD.replace("oas 48", "oas 50"));
    let o = iommugen(&["check", &f]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("iommu::E0401"), "{err}");
    assert!(err.contains("bad.iommu:6:"), "{err}");
    // Not a terminal: no colour escapes.
    assert!(!err.contains('\u{1b}'), "{err}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let o = iommugen(&["check", "no/such/file.iommu"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("no/such/file.iommu: no such file or folder"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(iommugen(&["check"]).status.code(), Some(2));
    assert_eq!(
        iommugen(&["check", "--format", "xml", "examples/"])
            .status
            .code(),
        Some(2)
    );
    let empty = scratch("empty");
    let o = iommugen(&["check", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no *.iommu files found"));
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let dir = scratch("warn");
    let f = write(
        &dir,
        "warn.iommu",
        &GOOD.replace(
            "id = sid;",
            "id = sid;\n    field spare: u8 = cell[0][23:16];",
        ),
    );
    let o = iommugen(&["check", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("iommu::W0001"));
    assert_eq!(
        iommugen(&["check", "--deny-warnings", &f]).status.code(),
        Some(1)
    );
}

#[test]
fn folders_are_searched_recursively_for_iommu_files() {
    let dir = scratch("tree");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir, "a.iommu", GOOD);
    write(
        &dir.join("sub"),
        "b.iommu",
        &GOOD.replace("v,x", "v,y").replace("driver d", "driver e"),
    );
    write(&dir, "notes.txt", "not a spec {");
    let o = iommugen(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("checked 2 files"));
}

#[test]
fn json_output_shape() {
    let dir = scratch("json");
    // Line 6 holds the page table.
    let src = GOOD.replace("oas 48", "oas 50");
    let f = write(&dir, "bad.iommu", &src);
    let o = iommugen(&["check", "--format", "json", &f]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    let d = &arr[0];
    assert_eq!(d["file"], f.as_str());
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "iommu::E0401");
    assert!(d["message"].as_str().unwrap().contains("50"));
    assert!(d["help"]
        .as_str()
        .unwrap()
        .contains("32, 36, 40, 42, 44, 48 or 52"));
    let label = &d["labels"][0];
    let offset = src.find("50;").unwrap();
    assert_eq!(label["offset"], offset);
    assert_eq!(label["length"], 2);
    assert_eq!(label["line"], 6);
    let line_start = src[..offset].rfind('\n').unwrap() + 1;
    assert_eq!(label["column"], offset - line_start + 1);
    assert!(label["label"].is_string());
}

#[test]
fn json_clean_is_an_empty_array() {
    let o = iommugen(&["check", "--format", "json", "examples/"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, serde_json::json!([]));
}

#[test]
fn compatible_claimed_in_two_files() {
    let dir = scratch("cross");
    let a = write(&dir, "a.iommu", GOOD);
    let b = write(&dir, "b.iommu", &GOOD.replace("driver d", "driver e"));
    let o = iommugen(&["check", "--format", "json", &a, &b]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["code"], "iommu::E0601");
    assert_eq!(v[0]["file"], b.as_str());
}

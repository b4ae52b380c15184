//! `iommugen check` end to end: exit codes, output formats, file handling.

use std::path::Path;

mod cli;
use cli::{iommugen, iommugen_with_stdin, scratch, stderr, write};

const GOOD: &str = "driver d {\n    compatible \"v,x\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::d::probe;\n}\n";

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
    let dir = scratch("check-cli", "errors");
    let f = write(&dir, "bad.iommu", GOOD.replace("oas 48", "oas 50"));
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
    let empty = scratch("check-cli", "empty");
    let o = iommugen(&["check", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no *.iommu files found"));
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let dir = scratch("check-cli", "warn");
    let f = write(
        &dir,
        "warn.iommu",
        GOOD.replace(
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
    let dir = scratch("check-cli", "tree");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir, "a.iommu", GOOD);
    write(
        &dir.join("sub"),
        "b.iommu",
        GOOD.replace("v,x", "v,y").replace("driver d", "driver e"),
    );
    write(&dir, "notes.txt", "not a spec {");
    let o = iommugen(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("checked 2 files"));
}

#[test]
fn json_output_shape() {
    let dir = scratch("check-cli", "json");
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
    let dir = scratch("check-cli", "cross");
    let a = write(&dir, "a.iommu", GOOD);
    let b = write(&dir, "b.iommu", GOOD.replace("driver d", "driver e"));
    let o = iommugen(&["check", "--format", "json", &a, &b]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["code"], "iommu::E0601");
    assert_eq!(v[0]["file"], b.as_str());
}

/// A driver with a 200,000-character name and no `init`, and one whose
/// `cells` is repeated across a megabyte line (labels far apart).
fn long_line_specs(dir: &Path) -> (String, String) {
    let name = "n".repeat(200_000);
    let long_name = GOOD
        .replace("driver d", &format!("driver {name}"))
        .replace("    init crate::d::probe;\n", "");
    let filler = "€".repeat(350_000);
    let mb_line = GOOD.replace(
        "    cells 1;",
        &format!("    cells 1; /* {filler} */ cells 2;"),
    );
    assert!(mb_line.len() > 1_000_000);
    (
        write(dir, "long-name.iommu", &long_name),
        write(dir, "mb-line.iommu", &mb_line),
    )
}

#[test]
fn long_lines_are_reported_cut_around_the_label() {
    let dir = scratch("check-cli", "long-lines");
    let (long_name, mb_line) = long_line_specs(&dir);
    let o = iommugen(&["check", &long_name]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("iommu::E0104"), "{err}");
    assert!(err.contains("long-name.iommu:1:8]"), "{err}");
    assert!(err.contains('…'));
    assert!(err.len() < 4_000, "{} bytes", err.len());

    let o = iommugen(&["check", &mb_line]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    // `cells 2` sits after 16 + 350,000 + 4 characters of line 3.
    assert!(err.contains("mb-line.iommu:3:350021]"), "{err}");
    assert!(err.contains("mb-line.iommu:3:5]"), "{err}");
    assert!(err.len() < 8_000, "{} bytes", err.len());

    let o = iommugen(&["check", "--format", "json", &mb_line]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["labels"][0]["column"], 350_021);
}

#[test]
fn the_human_report_shows_a_hundred_and_counts_the_rest() {
    let dir = scratch("check-cli", "cap");
    // 1 unused-field warning in a well-formed driver, then 250 unknown
    // items in a second one (a driver that did not parse gets no W0001).
    let warned = GOOD
        .replace("driver d {", "driver w {")
        .replace("\"v,x\"", "\"v,w\"")
        .replace(
            "    id = sid;\n",
            "    id = sid;\n    field spare: u8 = 0;\n",
        );
    let body: String = (0..250).map(|i| format!("    bogus{i};\n")).collect();
    let src = warned + &GOOD.replace("    id = sid;\n", &format!("    id = sid;\n{body}"));
    let f = write(&dir, "many.iommu", &src);
    let o = iommugen(&["check", &f]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(
        err.matches("iommu::E0101").count() + err.matches("iommu::W0001").count(),
        100
    );
    // The warning (line 6) comes first in source order, then 99 errors.
    assert!(err.contains("iommu::W0001"), "{err}");
    assert!(
        err.contains("… and 151 more errors, 0 more warnings"),
        "{err}"
    );
    assert!(
        err.contains("checked 1 file: 250 errors, 1 warning"),
        "{err}"
    );
    let o = iommugen(&["check", "--format", "json", &f]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 251);
}

#[test]
fn short_format_is_one_line_per_diagnostic() {
    let dir = scratch("check-cli", "short");
    let body: String = (0..250).map(|i| format!("    bogus{i};\n")).collect();
    let src = GOOD
        .replace("oas 48", "oas 50")
        .replace("    id = sid;\n", &format!("    id = sid;\n{body}"));
    let f = write(&dir, "many.iommu", &src);
    let o = iommugen(&["check", "--format", "short", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    // Every diagnostic (no cap), in source order, nothing else.
    assert_eq!(lines.len(), 251, "{err}");
    assert_eq!(
        lines[0],
        format!("{f}:6:5: error[iommu::E0101]: unknown item `bogus0` in a driver")
    );
    assert!(
        lines[249].starts_with(&format!("{f}:255:5: error[iommu::E0101]")),
        "{}",
        lines[249]
    );
    assert!(
        lines[250].starts_with(&format!("{f}:256:"))
            && lines[250].contains("error[iommu::E0401]: "),
        "{}",
        lines[250]
    );
    // A clean file prints nothing and exits 0.
    let ok = write(&dir, "ok.iommu", GOOD);
    let o = iommugen(&["check", "--format", "short", &ok]);
    assert_eq!((o.status.code(), stderr(&o).as_str()), (Some(0), ""));
}

#[test]
fn standard_input_is_checked_under_the_name_given() {
    let o = iommugen_with_stdin(&["check", "-"], GOOD.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("checked 1 file: 0 errors"));
    let bad = GOOD.replace("oas 48", "oas 50");
    let o = iommugen_with_stdin(&["check", "-"], bad.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("<stdin>:6:"), "{}", stderr(&o));
    let o = iommugen_with_stdin(
        &[
            "check",
            "--stdin-filename",
            "ed/buf.iommu",
            "--format",
            "json",
            "-",
        ],
        bad.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["file"], "ed/buf.iommu");
    // Standard input and a file together, as one run.
    let dir = scratch("check-cli", "stdin-and-file");
    let f = write(&dir, "good.iommu", GOOD.replace("v,x", "v,y"));
    let o = iommugen_with_stdin(&["check", &f, "-"], GOOD.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("checked 2 files"));
}

/// JSON columns after `é` (two UTF-8 bytes, one UTF-16 unit) and `😀`
/// (four bytes, two units), and a label that ends on a later line.
#[test]
fn json_columns_in_characters_and_utf16_and_the_end_of_a_label() {
    let src = "driver d {\n    compatible \"é😀\"; cells 99;\n    init crate::d::probe;\n}\ndriver e\n  ;\n";
    let o = iommugen_with_stdin(&["check", "--format", "json", "-"], src.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let find = |code: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .map(|d| d["labels"][0].clone())
            .unwrap_or_else(|| panic!("no {code} in {v:#}"))
    };
    // `    compatible "é😀"; cells ` is 27 characters, 28 UTF-16 units,
    // 31 bytes; `99` follows.
    let cells = find("iommu::E0106");
    assert_eq!(cells["offset"], src.find("99").unwrap());
    assert_eq!(cells["offset"], 11 + 31);
    assert_eq!((&cells["line"], &cells["column"]), (&2.into(), &28.into()));
    assert_eq!(cells["column_utf16"], 29);
    assert_eq!(
        (&cells["end_line"], &cells["end_column"]),
        (&2.into(), &30.into())
    );
    assert_eq!(cells["end_column_utf16"], 31);
    // `driver e` then `  ;` on the next line: from line 5, column 1 to
    // just past the `;`, line 6, column 4.
    let body = find("iommu::E0001");
    assert_eq!((&body["line"], &body["column"]), (&5.into(), &1.into()));
    assert_eq!(
        (&body["end_line"], &body["end_column"]),
        (&6.into(), &4.into())
    );
    assert_eq!(body["end_column_utf16"], 4);
    assert_eq!(body["length"], 12);
}

//! `iommugen fmt` end to end: in place, `--check`, standard input, files it
//! must leave alone (syntax errors, not UTF-8, a million levels deep), and
//! exit codes.

use std::time::Instant;

mod cli;
use cli::{iommugen, iommugen_with_stdin, scratch, stderr, stdout, write};

const MESSY: &str = "driver d{compatible \"v,x\";cells 1;field sid:u16=cell[0][15:0];\n\n\n  id=sid; // the ID\npage-table arm-lpae-s1{granule 4K;ias 48;oas 48;pool 8;}init crate::d::probe;}";

const TIDY: &str = "driver d {\n    compatible \"v,x\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n\n    id = sid; // the ID\n    page-table arm-lpae-s1 {\n        granule 4K;\n        ias 48;\n        oas 48;\n        pool 8;\n    }\n    init crate::d::probe;\n}\n";

#[test]
fn formats_in_place_and_then_has_nothing_to_do() {
    let dir = scratch("fmt-cli", "in-place");
    let f = write(&dir, "d.iommu", MESSY);
    let o = iommugen(&["fmt", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&f).unwrap(), TIDY);
    let o = iommugen(&["fmt", "--check", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn check_names_only_the_files_that_would_change() {
    let dir = scratch("fmt-cli", "check");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let messy = write(&dir.join("sub"), "messy.iommu", MESSY);
    write(&dir, "tidy.iommu", TIDY);
    write(&dir, "notes.txt", MESSY);
    let o = iommugen(&["fmt", "--check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{messy}\n"));
    // Nothing was written.
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), MESSY);
    // The folder is searched for `*.iommu` only.
    let o = iommugen(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), TIDY);
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        MESSY
    );
}

#[test]
fn shipped_specs_are_formatted() {
    let o = iommugen(&["fmt", "--check", "examples/"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn standard_input_to_standard_output() {
    let o = iommugen_with_stdin(&["fmt", "-"], MESSY.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), TIDY);
    let o = iommugen_with_stdin(&["fmt", "--check", "-"], MESSY.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "<stdin>\n");
    let o = iommugen_with_stdin(
        &["fmt", "--check", "--stdin-filename", "mine.iommu", "-"],
        MESSY.as_bytes(),
    );
    assert_eq!(stdout(&o), "mine.iommu\n");
    let o = iommugen_with_stdin(&["fmt", "--check", "-"], TIDY.as_bytes());
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
}

#[test]
fn syntax_errors_leave_the_text_as_it_was() {
    let broken = MESSY.replace("cells 1;", "cells 1");
    let dir = scratch("fmt-cli", "syntax");
    let f = write(&dir, "bad.iommu", &broken);
    let o = iommugen(&["fmt", &f]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("iommu::E0001") && err.contains("bad.iommu:1:"),
        "{err}"
    );
    assert!(err.contains("not formatted"), "{err}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), broken);
    // Through a pipe the text comes back as it was, named as asked.
    let o = iommugen_with_stdin(
        &["fmt", "--stdin-filename", "ed.iommu", "-"],
        broken.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), broken);
    assert!(stderr(&o).contains("ed.iommu:1:"), "{}", stderr(&o));
    // `--check` prints no name for it: it is not "would change", it is broken.
    let o = iommugen(&["fmt", "--check", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
}

#[test]
fn bytes_that_are_not_utf8_are_left_alone() {
    let mut bytes = MESSY.as_bytes().to_vec();
    bytes.splice(10..10, [0xff, 0xfe]);
    let dir = scratch("fmt-cli", "utf8");
    let f = write(&dir, "bin.iommu", &bytes);
    let o = iommugen(&["fmt", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("iommu::E0005"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&f).unwrap(), bytes);
    let o = iommugen_with_stdin(&["fmt", "-"], &bytes);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(o.stdout, bytes);
}

#[test]
fn a_byte_order_mark_is_kept() {
    let dir = scratch("fmt-cli", "bom");
    let f = write(&dir, "bom.iommu", format!("\u{feff}{MESSY}"));
    let o = iommugen(&["fmt", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        format!("\u{feff}{TIDY}")
    );
}

#[test]
fn hostile_input_is_quick_and_never_a_crash() {
    let dir = scratch("fmt-cli", "hostile");
    let deep = MESSY.replace(
        "id=sid;",
        &format!(
            "check {}sid{};",
            "(".repeat(1_000_000),
            ")".repeat(1_000_000)
        ),
    );
    let wide = MESSY.replace(
        "\"v,x\"",
        &(0..100_000)
            .map(|i| format!("\"v,{i}\""))
            .collect::<Vec<_>>()
            .join(","),
    );
    let start = Instant::now();
    let deep_f = write(&dir, "deep.iommu", &deep);
    let o = iommugen(&["fmt", &deep_f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("iommu::E0004"));
    assert!(!stderr(&o).contains("panicked") && !stderr(&o).contains("overflow"));
    assert_eq!(std::fs::read_to_string(&deep_f).unwrap(), deep);
    let wide_f = write(&dir, "wide.iommu", &wide);
    let o = iommugen(&["fmt", &wide_f]);
    assert_eq!(o.status.code(), Some(0), "{:.2000}", stderr(&o));
    let out = std::fs::read_to_string(&wide_f).unwrap();
    // 100,000 strings wrap at 100 columns: many lines, none past 100.
    assert!(out.lines().all(|l| l.len() <= 100));
    assert!(out.lines().count() > 10_000);
    assert_eq!(
        iommugen(&["fmt", "--check", &wide_f]).status.code(),
        Some(0)
    );
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(iommugen(&["fmt"]).status.code(), Some(2));
    let o = iommugen(&["fmt", "no/such.iommu"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such file or folder"));
    let empty = scratch("fmt-cli", "empty");
    let o = iommugen(&["fmt", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no *.iommu files found"));
    assert_eq!(iommugen(&["fmt", "-", "-"]).status.code(), Some(2));
    assert_eq!(iommugen(&["fmt", "--bogus", "x"]).status.code(), Some(2));
}

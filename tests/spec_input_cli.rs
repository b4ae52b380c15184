//! Hostile spec files through every command that reads one (`check`,
//! `generate`, `dt --spec`, `fmt`): expressions nested a million deep,
//! bytes that are not UTF-8, a byte-order mark with CRLF line ends. Each is a located
//! diagnostic with exit 1 (or clean), never a crash, and quick.

use std::path::Path;
use std::process::Output;

mod cli;
use cli::{iommugen, scratch, stderr, write};

const GOOD: &str = "driver d {\n    compatible \"v,x\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid;\n    check sid < 0x100;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::d::probe;\n}\n";

const MILLION: usize = 1_000_000;

/// The three shapes, a million deep, in place of the spec's `check`.
fn deep_specs() -> [(&'static str, String); 3] {
    let with = |check: String| GOOD.replace("check sid < 0x100;", &check);
    [
        (
            "parens",
            with(format!(
                "check {}sid{};",
                "(".repeat(MILLION),
                ")".repeat(MILLION)
            )),
        ),
        ("nots", with(format!("check {}sid;", "!".repeat(MILLION)))),
        (
            "chain",
            with(format!("check sid{};", " + sid".repeat(MILLION))),
        ),
    ]
}

/// Every command that reads `spec`, with the output of each.
fn every_command(spec: &str, dir: &Path) -> Vec<(&'static str, Output)> {
    let out = dir.join("out.rs").display().to_string();
    let board = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dts/juno-mmu401.dts")
        .display()
        .to_string();
    vec![
        ("check", iommugen(&["check", spec])),
        ("generate", iommugen(&["generate", spec, "-o", &out])),
        ("dt", iommugen(&["dt", "--spec", spec, &board])),
        // Last: it may rewrite the file (only one it can format).
        ("fmt", iommugen(&["fmt", spec])),
    ]
}

#[test]
fn a_million_levels_is_a_located_error_from_every_command() {
    let dir = scratch("spec-input", "deep");
    for (shape, text) in deep_specs() {
        let spec = write(&dir, &format!("{shape}.iommu"), text.as_bytes());
        for (cmd, o) in every_command(&spec, &dir) {
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{cmd} {shape}: {err:.2000}");
            assert!(err.contains("iommu::E0004"), "{cmd} {shape}: {err:.2000}");
            assert!(err.contains(&format!("{shape}.iommu:6:")), "{cmd} {shape}");
            assert!(!err.contains("overflow") && !err.contains("panicked"));
        }
        assert!(!dir.join("out.rs").exists(), "nothing generated");
    }
}

#[test]
fn invalid_utf8_is_a_located_error_from_every_command() {
    let dir = scratch("spec-input", "utf8");
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("v,x").unwrap() + 2;
    bytes[at] = 0xc3; // a lead byte without its continuation
    let spec = write(&dir, "bad.iommu", &bytes);
    for (cmd, o) in every_command(&spec, &dir) {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("iommu::E0005"), "{cmd}: {err}");
        assert!(
            err.contains("byte 0xc3 at line 2, column 19"),
            "{cmd}: {err}"
        );
        assert!(err.contains("bad.iommu:2:19"), "{cmd}: {err}");
        assert!(!err.contains("cannot read"), "{cmd}: {err}");
    }
    // JSON carries the same place.
    let o = iommugen(&["check", "--format", "json", &spec]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["code"], "iommu::E0005");
    assert_eq!(v[0]["labels"][0]["line"], 2);
    assert_eq!(v[0]["labels"][0]["column"], 19);
    // Other files are still checked in full.
    let other = write(&dir, "other.iommu", GOOD.replace("u16", "u8").as_bytes());
    let o = iommugen(&["check", &spec, &other]);
    let err = stderr(&o);
    assert!(
        err.contains("iommu::E0005") && err.contains("iommu::E0203"),
        "{err}"
    );
}

#[test]
fn a_bom_and_crlf_line_ends_are_accepted_by_every_command() {
    let dir = scratch("spec-input", "bom");
    let text = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
    let spec = write(&dir, "bom.iommu", text.as_bytes());
    for (cmd, o) in every_command(&spec, &dir) {
        // `dt` exits 1 for the board (its SMMUs are unclaimed by `d`).
        let err = stderr(&o);
        assert!(!err.contains("iommu::E"), "{cmd}: {err}");
        assert!(o.status.code() == Some(0) || cmd == "dt", "{cmd}: {err}");
    }
    // `fmt` kept the mark and made the line ends LF.
    let formatted = std::fs::read_to_string(&spec).unwrap();
    assert!(formatted.starts_with('\u{feff}') && !formatted.contains('\r'));
    // A later error is at the column an editor shows on the first line.
    let broken = write(
        &dir,
        "broken.iommu",
        text.replace("driver d {", "driver {").as_bytes(),
    );
    let err = stderr(&iommugen(&["check", &broken]));
    assert!(err.contains("broken.iommu:1:8"), "{err}");
}

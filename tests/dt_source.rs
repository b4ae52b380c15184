//! `iommugen dt` on `.dts` sources as Linux builds them: the C
//! preprocessor with `-I` folders and `-D` macros (tests/dts/located/, a
//! board on a `.dtsi` with its own `dt-bindings` header), then dtc; every
//! item and diagnostic located at its source line (dtc's `-T -T`), in the
//! human report and in JSON; cpp's messages passed through, dtc's
//! warnings in the report (`dt::W0399`).
//!
//! Expected lines and columns are found in the fixture's text by what the
//! line says (a planted mistake's own line), never taken from our output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, stderr, stdout, write};

const BOARD: &str = "tests/dts/located/board.dts";
const SOC: &str = "tests/dts/located/soc.dtsi";
const INCLUDE: &str = "tests/dts/located/include";

fn require_tools() {
    tools::require("cpp", "cpp");
    tools::require("dtc", "device-tree-compiler");
}

/// (line, column) of the first line of `file` (from the project root)
/// containing `needle`, the column being where `needle` starts (1-based
/// bytes, as dtc counts).
fn line_of(file: &str, needle: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(needle) {
            return (i as u64 + 1, col as u64 + 1);
        }
    }
    panic!("{file} has no line with {needle:?}")
}

/// `iommugen dt --lint --format json -I INCLUDE BOARD` plus `extra`.
fn located_json(extra: &[&str]) -> (Output, Value) {
    require_tools();
    let mut args = vec!["dt", "--lint", "--format", "json", "-I", INCLUDE];
    args.extend_from_slice(extra);
    args.push(BOARD);
    let out = iommugen(&args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out, v)
}

fn source(v: &Value) -> (String, u64, u64) {
    let s = &v["source"];
    (
        s["file"]
            .as_str()
            .unwrap_or_else(|| panic!("not located: {v}"))
            .to_owned(),
        s["line"].as_u64().unwrap(),
        s["column"].as_u64().unwrap(),
    )
}

fn diagnostic<'a>(v: &'a Value, code: &str) -> &'a Value {
    let found: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .collect();
    assert_eq!(found.len(), 1, "one {code} in {:#}", v["diagnostics"]);
    found[0]
}

fn entry<'a>(v: &'a Value, list: &str, path: &str) -> &'a Value {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {list}: {v:#}"))
}

/// Each planted mistake: its code, and the text of the `.dtsi` line it
/// must be located at (its property; the node line for an init failure).
const PLANTED: &[(&str, &str)] = &[
    // #iommu-cells = <2>: no arm,smmu-v3 spec allows it (lint), and the
    // driver refuses to initialise the node (the boot flow).
    ("dt::W0310", "#iommu-cells = <2>;"),
    ("dt::E0301", "smmu_vpu: iommu@1200000 {"),
    // The master behind it cannot be configured: its `iommus`.
    ("dt::E0303", "iommus = <&smmu_vpu SID_VPU 0>;"),
    // SID_DMA and SID_DMA_CH1 are one StreamID in board-ids.h.
    (
        "dt::W0311",
        "iommus = <&smmu_main SID_DMA>, <&smmu_main SID_DMA_CH1>;",
    ),
    // board.dts disables smmu_isp; the master's `iommus` is in the .dtsi.
    ("dt::W0314", "iommus = <&smmu_isp SID_ISP>;"),
];

/// The column a located line points at: its first non-blank byte, or the
/// node's name after its label.
fn expected(needle: &str) -> (u64, u64) {
    let (line, col) = line_of(SOC, needle);
    match needle.split_once(": ") {
        Some((label, _)) if needle.ends_with('{') => (line, col + label.len() as u64 + 2),
        _ => (line, col),
    }
}

#[test]
fn every_planted_mistake_is_located_in_the_dtsi_in_json() {
    let (out, v) = located_json(&[]);
    // An IOMMU failed and a master has an error: exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for &(code, needle) in PLANTED {
        let (line, column) = expected(needle);
        let d = diagnostic(&v, code);
        assert_eq!(source(d), (SOC.into(), line, column), "{code}: {d}");
        // The diagnostic's `file` stays the board named on the command line.
        assert_eq!(d["file"], BOARD);
        // One label in `check`'s shape, in the file `source` names.
        assert_eq!(d["labels"][0]["line"], line, "{d}");
        assert_eq!(d["labels"][0]["column"], column, "{d}");
    }
    // Besides dtc's own (tests/dt_excerpt.rs), just the planted ones.
    let ours = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] != "dt::W0399");
    assert_eq!(ours.count(), PLANTED.len());
    // The IDs came through the header's macros: SMMU_SID(1, 0) twice.
    let dma = entry(&v, "masters", "/soc/dma@2000000");
    assert_eq!(
        dma["translations"][0]["ids"],
        serde_json::json!([0x10, 0x10])
    );
    // Items are located at their node's name, in the file defining it.
    let (line, col) = line_of(SOC, "dma@2000000 {");
    assert_eq!(source(dma), (SOC.into(), line, col));
    let isp = entry(&v, "iommus", "/soc/iommu@1100000");
    assert_eq!(isp["status"], "disabled");
    assert_eq!(
        source(isp),
        (
            SOC.into(),
            expected("smmu_isp: iommu@1100000 {").0,
            3 + "smmu_isp: ".len() as u64
        )
    );
    // A node the board adds lives in board.dts.
    let (line, col) = line_of(BOARD, "gpu@2400000 {");
    assert_eq!(
        source(entry(&v, "masters", "/soc/gpu@2400000")),
        (BOARD.into(), line, col)
    );
}

/// The excerpt the human report draws for `code`: from its code line to
/// the next blank line before another.
fn drawn<'a>(text: &'a str, code: &str) -> &'a str {
    let start = text
        .find(&format!("\n{code}\n"))
        .unwrap_or_else(|| panic!("no {code} drawn in {text}"));
    let block = &text[start + 1..];
    let end = block.find("\n\ndt::").map_or(block.len(), |e| e + 1);
    &block[..end]
}

#[test]
fn every_planted_mistake_is_located_in_the_human_report() {
    require_tools();
    let out = iommugen(&["dt", "--lint", "-I", INCLUDE, BOARD]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for &(code, needle) in PLANTED {
        // Drawn as `iommugen check` draws: the file, line and column in
        // the excerpt's header, the line itself below it.
        let (line, column) = expected(needle);
        let block = drawn(&text, code);
        let header = format!("╭─[{SOC}:{line}:{column}]");
        assert!(block.contains(&header), "{code}: {block}, want {header}");
        assert!(block.contains(&format!(" {line} │ ")), "{block}");
        assert!(block.contains(needle), "{block}");
    }
    let (line, col) = line_of(SOC, "dma@2000000 {");
    assert!(
        text.contains(&format!("  /soc/dma@2000000  ({SOC}:{line}:{col})\n")),
        "{text}"
    );
}

#[test]
fn defines_and_long_options_reach_the_preprocessor() {
    let gpu_ids =
        |v: &Value| entry(v, "masters", "/soc/gpu@2400000")["translations"][0]["ids"].clone();
    // board.dts: GPU_SID is 0x40 unless defined.
    let (_, v) = located_json(&[]);
    assert_eq!(gpu_ids(&v), serde_json::json!([0x40]));
    let (_, v) = located_json(&["-D", "GPU_SID=0x41"]);
    assert_eq!(gpu_ids(&v), serde_json::json!([0x41]));
    let (_, v) = located_json(&["--define", "GPU_SID=(0x40 + 2)", "--include", INCLUDE]);
    assert_eq!(gpu_ids(&v), serde_json::json!([0x42]));
}

#[test]
fn a_header_not_found_is_cpps_located_error() {
    require_tools();
    // Without -I, <dt-bindings/...> is not found (-nostdinc: no system
    // folders either): cpp's message names the .dtsi line, exit 1.
    let out = iommugen(&["dt", BOARD]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let (line, _) = line_of(SOC, "#include <dt-bindings/iommu/board-ids.h>");
    assert!(
        err.contains(&format!("cpp could not preprocess {BOARD}")),
        "{err}"
    );
    assert!(err.contains(&format!("{SOC}:{line}:")), "{err}");
    assert!(err.contains("dt-bindings/iommu/board-ids.h"), "{err}");
}

#[test]
fn dtc_warnings_are_in_the_report_at_the_original_file() {
    let (out, v) = located_json(&[]);
    // dtc's own format: file:line.col-line.col: Warning (check): node: ...
    let (line, column) = line_of(SOC, "timer@2300000 {");
    let warnings: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("dtc (unit_address_vs_reg): /soc/timer@2300000: "))
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{:#}", v["diagnostics"]);
    let w = warnings[0];
    assert_eq!(
        (&w["code"], &w["severity"]),
        (&"dt::W0399".into(), &"warning".into())
    );
    assert_eq!(source(w), (SOC.into(), line, column));
    // In the report, so no longer on standard error (nothing is lost:
    // cpp's messages still are).
    let err = stderr(&out);
    assert!(!err.contains("Warning (unit_address_vs_reg)"), "{err}");
}

#[test]
fn a_dtc_error_names_the_included_file() {
    require_tools();
    let dir = scratch("dt_source", "dtc_error");
    write(&dir, "bad.dtsi", "/ {\n\tnode {\n\t\tp = <1;\n\t};\n};\n");
    let board = write(&dir, "board.dts", "/dts-v1/;\n#include \"bad.dtsi\"\n");
    let out = iommugen(&["dt", &board]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("dtc could not compile"), "{err}");
    assert!(err.contains("bad.dtsi:3."), "{err}");
}

/// A folder holding only links to the named tools found on PATH.
fn path_with(test: &str, tools: &[&str]) -> PathBuf {
    let dir = scratch("dt_source", test);
    for tool in tools {
        let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} not on PATH: bash .ci/setup installs it"));
        std::os::unix::fs::symlink(real, dir.join(tool)).unwrap();
    }
    dir
}

fn dt_with_path(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .args(["dt", "-I", INCLUDE, BOARD])
        .output()
        .unwrap()
}

#[test]
fn cpp_or_dtc_missing_or_broken_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    require_tools();
    // No cpp: exit 2, saying which package.
    let dir = path_with("no_cpp", &["dtc"]);
    let out = dt_with_path(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`cpp` is not installed: install the cpp package"),
        "{err}"
    );
    // cpp there, no dtc.
    let dir = path_with("no_dtc", &["cpp"]);
    let out = dt_with_path(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`dtc` is not installed: install the device-tree-compiler package"),
        "{err}"
    );
    // A cpp that cannot run at all (not executable): exit 2.
    let dir = path_with("cpp_not_executable", &["dtc"]);
    std::fs::write(dir.join("cpp"), "not a program").unwrap();
    std::fs::set_permissions(dir.join("cpp"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dt_with_path(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot run cpp"), "{}", stderr(&out));
    // A cpp that runs and fails: its message, exit 1.
    let dir = path_with("cpp_fails", &["dtc"]);
    std::fs::write(
        dir.join("cpp"),
        "#!/bin/sh\necho 'cpp: fatal error: something broke' >&2\nexit 4\n",
    )
    .unwrap();
    std::fs::set_permissions(dir.join("cpp"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dt_with_path(&dir);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cpp could not preprocess"), "{err}");
    assert!(err.contains("something broke"), "{err}");
    for t in ["no_cpp", "no_dtc", "cpp_not_executable", "cpp_fails"] {
        let _ = std::fs::remove_dir_all(dir.with_file_name(
            dir.file_name().map_or_else(Default::default, |n| {
                n.to_string_lossy().replace("cpp_fails", t)
            }),
        ));
    }
}

#[test]
fn a_dtb_has_no_locations() {
    require_tools();
    let dir = scratch("dt_source", "dtb");
    let dtb = dir.join("board.dtb");
    let pre = tools::run_ok(
        Command::new("cpp")
            .args([
                "-nostdinc",
                "-undef",
                "-D__DTS__",
                "-x",
                "assembler-with-cpp",
            ])
            .args(["-I", INCLUDE, BOARD])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
        "cpp",
    );
    let pre_path = write(&dir, "board.pre.dts", &pre.stdout);
    tools::run_ok(
        Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&dtb)
            .arg(&pre_path),
        "dtc",
    );
    let out = iommugen(&["dt", "--lint", "--format", "json", dtb.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The same findings, none located: the field is absent, not null.
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), PLANTED.len());
    for list in ["iommus", "masters", "diagnostics"] {
        for item in v[list].as_array().unwrap() {
            assert!(item.get("source").is_none(), "{item}");
        }
    }
    for d in v["diagnostics"].as_array().unwrap() {
        assert_eq!(d["labels"], serde_json::json!([]), "{d}");
    }
    let out = iommugen(&["dt", "--lint", dtb.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    let text = stdout(&out);
    assert!(text.contains("\n  /soc/dma@2000000\n"), "{text}");
    // No source: the one-line form, no excerpt.
    assert!(text.contains("\nwarning[dt::W0311]: "), "{text}");
    assert!(!text.contains("╭─["), "{text}");
}

#[test]
fn a_rid_is_located_at_its_host_bridges_iommu_map() {
    require_tools();
    let dir = scratch("dt_source", "rid");
    write(
        &dir,
        "pcie.dtsi",
        "/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\
         \tsmmu: iommu@1000 {\n\t\tcompatible = \"arm,smmu-v3\";\n\t\treg = <0x1000 0x100>;\n\
         \t\t#iommu-cells = <1>;\n\t};\n\
         \tpcie@3000 {\n\t\tcompatible = \"pci-host-ecam-generic\";\n\t\treg = <0x3000 0x100>;\n\
         \t\tiommu-map = <0x0 &smmu 0x100 0x100>,\n\t\t\t<0x0 &smmu 0x200 0x100>;\n\t};\n};\n",
    );
    let board = write(&dir, "board.dts", "/dts-v1/;\n#include \"pcie.dtsi\"\n");
    let out = iommugen(&[
        "dt",
        "--lint",
        "--format",
        "json",
        "--rid",
        "/pcie@3000@0x5",
        &board,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let file = dir.join("pcie.dtsi").display().to_string();
    // A property over two lines is located at its first.
    assert_eq!(source(&v["pci"][0]), (file.clone(), 12, 3));
    assert_eq!(v["pci"][0]["id"], 0x105);
    assert_eq!(source(diagnostic(&v, "dt::W0312")), (file, 12, 3));
}

//! `iommugen dt`'s diagnostics drawn as `iommugen check` draws its own:
//! every tree code the book lists (and dtc's warnings, `dt::W0399`)
//! located at its `.dts`/`.dtsi` line, in the human report as a miette
//! excerpt with the property or node name labelled, and in JSON as
//! `source` plus one label in `check`'s shape. The one-line form when the
//! source cannot be read (or the input is a `.dtb`, tests/dt_source.rs).
//!
//! Fixtures: tests/dts/located/ (W0310, W0311, W0314, E0301, E0303) and
//! tests/dts/planted/ (W0302, E0304, W0312, W0313, W0315, dtc's). Expected
//! places are found in the fixtures' text, never taken from our output.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, stderr, stdout, write};

const LOCATED: &str = "tests/dts/located/board.dts";
const LOCATED_SOC: &str = "tests/dts/located/soc.dtsi";
const INCLUDE: &str = "tests/dts/located/include";
const PLANTED: &str = "tests/dts/planted/board.dts";
const PLANTED_SOC: &str = "tests/dts/planted/soc.dtsi";
/// The RID the planted board's `iommu-map` sends to an unclaimed IOMMU.
const RID: &str = "/soc/pcie@3000000@0x300";

/// One expected diagnostic: its code, a piece of its message that tells
/// it from others of the code, the file and the text of the line it is
/// located at, and the name labelled there.
struct Want {
    code: &'static str,
    says: &'static str,
    file: &'static str,
    line: &'static str,
    name: &'static str,
}

const fn want(
    code: &'static str,
    says: &'static str,
    file: &'static str,
    line: &'static str,
    name: &'static str,
) -> Want {
    Want {
        code,
        says,
        file,
        line,
        name,
    }
}

/// Every code on the located board (`--lint -I INCLUDE`).
const ON_LOCATED: &[Want] = &[
    want(
        "dt::W0310",
        "#iommu-cells = <2>",
        LOCATED_SOC,
        "#iommu-cells = <2>;",
        "#iommu-cells",
    ),
    want(
        "dt::E0301",
        "init:",
        LOCATED_SOC,
        "smmu_vpu: iommu@1200000 {",
        "iommu@1200000",
    ),
    want(
        "dt::E0303",
        "/soc/vpu@2200000",
        LOCATED_SOC,
        "iommus = <&smmu_vpu SID_VPU 0>;",
        "iommus",
    ),
    want(
        "dt::W0311",
        "given more than once",
        LOCATED_SOC,
        "iommus = <&smmu_main SID_DMA>,",
        "iommus",
    ),
    want(
        "dt::W0314",
        "disabled IOMMU",
        LOCATED_SOC,
        "iommus = <&smmu_isp SID_ISP>;",
        "iommus",
    ),
    want(
        "dt::W0399",
        "(unit_address_vs_reg)",
        LOCATED_SOC,
        "timer@2300000 {",
        "timer@2300000",
    ),
];

/// Every code on the planted board (`--lint --rid RID`).
const ON_PLANTED: &[Want] = &[
    want(
        "dt::W0302",
        "no spec claims",
        PLANTED_SOC,
        "compatible = \"vendor,unknown-iommu\";",
        "compatible",
    ),
    want(
        "dt::E0304",
        "RID 0x300",
        PLANTED_SOC,
        "iommu-map = <0x0 &smmu",
        "iommu-map",
    ),
    want(
        "dt::W0312",
        "overlaps entry 0",
        PLANTED_SOC,
        "iommu-map = <0x0 &smmu",
        "iommu-map",
    ),
    want(
        "dt::W0313",
        "folds requester IDs",
        PLANTED_SOC,
        "iommu-map-mask = <0xfff8>;",
        "iommu-map-mask",
    ),
    want(
        "dt::W0315",
        "mtk_m4u drops",
        PLANTED_SOC,
        "iommus = <&m4u 0x10423>;",
        "iommus",
    ),
    // dtc: a property, and a node the board extends (dtc names both places).
    want(
        "dt::W0399",
        "(reg_format): /soc/uart@2400000:reg:",
        PLANTED_SOC,
        "reg = <0x2400000>;",
        "reg",
    ),
    want(
        "dt::W0399",
        "also defined at tests/dts/planted/board.dts:16.",
        PLANTED_SOC,
        "timer: timer@2300000 {",
        "timer@2300000",
    ),
];

fn text_of(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Where `w` must be: 1-based line, 1-based column of its name (bytes,
/// the same as characters: the fixtures are ASCII) and the name's byte
/// offset in the file.
fn place(w: &Want) -> (u64, u64, u64) {
    let text = text_of(w.file);
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.contains(w.line) {
            let name = w.line.find(w.name).expect("the name is on its line");
            let col = line.find(w.line).unwrap_or(0) + name;
            return (i as u64 + 1, col as u64 + 1, (offset + col) as u64);
        }
        offset += line.len();
    }
    panic!("{} has no line with {:?}", w.file, w.line)
}

fn run(board: &str, extra: &[&str], json: bool) -> Output {
    tools::require("cpp", "cpp");
    tools::require("dtc", "device-tree-compiler");
    let mut args = vec!["dt", "--lint"];
    if json {
        args.extend(["--format", "json"]);
    }
    args.extend_from_slice(extra);
    args.push(board);
    iommugen(&args)
}

/// The one diagnostic of `v` that `w` describes.
fn find<'a>(v: &'a Value, w: &Want) -> &'a Value {
    let found: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == w.code && d["message"].as_str().unwrap().contains(w.says))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{} {:?} in {:#}",
        w.code,
        w.says,
        v["diagnostics"]
    );
    found[0]
}

fn check_json(board: &str, extra: &[&str], wants: &[Want]) {
    let out = run(board, extra, true);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    for w in wants {
        let (line, column, offset) = place(w);
        let d = find(&v, w);
        assert_eq!(d["file"], board, "{d}");
        assert_eq!(d["source"]["file"], w.file, "{d}");
        assert_eq!(
            (&d["source"]["line"], &d["source"]["column"]),
            (&line.into(), &column.into()),
            "{d}"
        );
        // One primary label over the name, in `check`'s shape.
        let labels = d["labels"].as_array().unwrap();
        assert_eq!(labels.len(), 1, "{d}");
        let l = &labels[0];
        let len = w.name.len() as u64;
        assert_eq!(l["primary"], true);
        assert_eq!(
            (&l["offset"], &l["length"]),
            (&offset.into(), &len.into()),
            "{d}"
        );
        assert_eq!(
            (&l["line"], &l["column"]),
            (&line.into(), &column.into()),
            "{d}"
        );
        assert_eq!(
            (&l["end_line"], &l["end_column"]),
            (&line.into(), &(column + len).into()),
            "{d}"
        );
        assert_eq!(
            (&l["column_utf16"], &l["end_column_utf16"]),
            (&column.into(), &(column + len).into())
        );
        let what = if w.line.ends_with('{') {
            "this node"
        } else {
            "this property"
        };
        assert_eq!(l["label"], what, "{d}");
    }
}

/// The excerpts of a human report: each from its code line to the next.
fn excerpts(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text.match_indices("\n\ndt::").map(|(i, _)| i + 2).collect();
    starts.push(text.len());
    starts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

fn check_human(board: &str, extra: &[&str], wants: &[Want]) {
    let out = run(board, extra, false);
    let text = stdout(&out);
    // Not a terminal: no colour, as `iommugen check`.
    assert!(!text.contains('\u{1b}'), "{text}");
    let drawn = excerpts(&text);
    for w in wants {
        let (line, column, _) = place(w);
        let found: Vec<&&str> = drawn
            .iter()
            .filter(|b| {
                b.starts_with(&format!("{}\n", w.code)) && b.replace("\n  │ ", " ").contains(w.says)
            })
            .collect();
        assert_eq!(found.len(), 1, "{} {:?} in {text}", w.code, w.says);
        let block = found[0];
        let header = format!("╭─[{}:{line}:{column}]", w.file);
        assert!(block.contains(&header), "{block}\nwant {header}");
        // The line itself, and under it the label: as wide as the name,
        // starting below it, saying what it names.
        let rows: Vec<&str> = block.lines().collect();
        let at = rows
            .iter()
            .position(|r| r.trim_start().starts_with(&format!("{line} │ ")))
            .unwrap_or_else(|| panic!("line {line} not shown: {block}"));
        let shown = rows[at];
        assert!(shown.contains(w.line), "{shown:?}");
        let name_at = shown.chars().count() - shown[shown.find(w.name).unwrap()..].chars().count();
        let under = rows[at + 1];
        let marks: Vec<(usize, char)> = under
            .chars()
            .enumerate()
            .filter(|&(_, c)| c == '─' || c == '┬')
            .collect();
        assert_eq!(marks.len(), w.name.len(), "{shown:?}\n{under:?}");
        assert_eq!(marks[0].0, name_at, "{shown:?}\n{under:?}");
        let what = if w.line.ends_with('{') {
            "this node"
        } else {
            "this property"
        };
        assert!(rows[at + 2].ends_with(&format!("╰── {what}")), "{block}");
    }
}

#[test]
fn every_code_on_the_located_board_in_json() {
    check_json(LOCATED, &["-I", INCLUDE], ON_LOCATED);
}

#[test]
fn every_code_on_the_located_board_drawn() {
    check_human(LOCATED, &["-I", INCLUDE], ON_LOCATED);
}

#[test]
fn every_code_on_the_planted_board_in_json() {
    check_json(PLANTED, &["--rid", RID], ON_PLANTED);
}

#[test]
fn every_code_on_the_planted_board_drawn() {
    check_human(PLANTED, &["--rid", RID], ON_PLANTED);
}

#[test]
fn dtc_warnings_about_no_node_are_kept_unlocated() {
    // reg_format failing makes dtc skip the checks that need it, and say
    // so about no node: kept, verbatim, in the one-line form.
    let out = run(PLANTED, &["--rid", RID, "--format", "json"], false);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .ends_with("Failed prerequisite 'reg_format'")
        })
        .collect();
    assert!(!skipped.is_empty(), "{:#}", v["diagnostics"]);
    for d in &skipped {
        assert_eq!(d["code"], "dt::W0399");
        assert!(d.get("source").is_none(), "{d}");
        assert_eq!(d["labels"], serde_json::json!([]));
    }
    // dtc's warnings lead the list (dtc ran first), and none reached
    // standard error: they are in the report.
    assert_eq!(v["diagnostics"][0]["code"], "dt::W0399");
    assert!(!stderr(&out).contains("Warning ("), "{}", stderr(&out));
    let text = stdout(&run(PLANTED, &["--rid", RID], false));
    assert!(
        text.contains(
            "\nwarning[dt::W0399]: dtc (simple_bus_reg): Failed prerequisite 'reg_format'\n"
        ),
        "{text}"
    );
}

#[test]
fn dtc_warnings_do_not_count_for_deny_warnings() {
    tools::require("cpp", "cpp");
    tools::require("dtc", "device-tree-compiler");
    let dir = scratch("dt_excerpt", "deny");
    let board = write(
        &dir,
        "board.dts",
        "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\
         \ttimer@1000 {\n\t\tcompatible = \"v,timer\";\n\t};\n};\n",
    );
    let out = iommugen(&["dt", "--deny-warnings", "--format", "json", &board]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, ["dt::W0399"], "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The report's own warnings still do.
    std::fs::write(
        &board,
        "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\
         \tiommu@1000 {\n\t\tcompatible = \"v,nosuch\";\n\t\treg = <0x1000 0x10>;\n\
         \t\t#iommu-cells = <1>;\n\t};\n};\n",
    )
    .unwrap();
    let out = iommugen(&["dt", "--deny-warnings", &board]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn a_source_that_cannot_be_read_gives_the_one_line_form() {
    tools::require("cpp", "cpp");
    tools::require("dtc", "device-tree-compiler");
    // Latin-1 in a comment: dtc and cpp take it; it is no UTF-8 text to
    // draw, so the warning keeps its file:line:col: line.
    let dir = scratch("dt_excerpt", "latin1");
    let mut soc = b"/* caf\xe9 */\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n".to_vec();
    soc.extend_from_slice(
        b"\tiommu@1000 {\n\t\tcompatible = \"v,nosuch\";\n\t\treg = <0x1000 0x10>;\n\
          \t\t#iommu-cells = <1>;\n\t};\n};\n",
    );
    let soc_path = write(&dir, "soc.dtsi", soc);
    let board = write(&dir, "board.dts", "/dts-v1/;\n#include \"soc.dtsi\"\n");
    let out = iommugen(&["dt", &board]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "\n{soc_path}:6:3: warning[dt::W0302]: /iommu@1000: no spec claims"
        )),
        "{text}"
    );
    assert!(!text.contains("╭─["), "{text}");
    let out = iommugen(&["dt", "--format", "json", &board]);
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "dt::W0302");
    assert_eq!(
        (&d["source"]["line"], &d["source"]["column"]),
        (&6.into(), &3.into())
    );
    assert_eq!(d["labels"], serde_json::json!([]));
}

#[test]
fn the_human_report_draws_the_first_hundred_as_check_does() {
    tools::require("cpp", "cpp");
    tools::require("dtc", "device-tree-compiler");
    // 150 IOMMUs no spec claims: 150 located warnings.
    let mut dts = String::from("/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n");
    for i in 0..150 {
        dts.push_str(&format!(
            "\tiommu@{a:x} {{\n\t\tcompatible = \"v,nosuch\";\n\t\treg = <{a:#x} 0x10>;\n\
             \t\t#iommu-cells = <1>;\n\t}};\n",
            a = 0x1000 + i * 0x100
        ));
    }
    dts.push_str("};\n");
    let dir = scratch("dt_excerpt", "cap");
    let board = write(&dir, "board.dts", dts);
    let text = stdout(&iommugen(&["dt", &board]));
    let out = iommugen(&["dt", "--format", "json", &board]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(text.matches("\ndt::W0302\n").count(), 100, "{text}");
    assert!(
        text.ends_with("… and 0 more errors, 50 more warnings\n"),
        "{text}"
    );
    // The summary and JSON count every one.
    assert!(text.contains(": 0 errors, 150 warnings\n"), "{text}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 150);
}

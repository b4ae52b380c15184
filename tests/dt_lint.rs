//! `iommugen dt --lint`: one planted mistake per test on a tree that is
//! otherwise clean, each found under its stable code and nothing else;
//! `--deny-warnings` turns warnings into exit status 1.

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, write};

/// A clean board: one SMMUv3 (arm,smmu-v3.yaml: #iommu-cells = <1>), a
/// platform master with two distinct stream IDs, and a host bridge whose
/// two map entries are disjoint and whose mask keeps every RID bit.
fn board(planted: &str) -> String {
    format!(
        r#"/dts-v1/;
/ {{
    #address-cells = <1>;
    #size-cells = <1>;
    smmu: iommu@1000 {{
        compatible = "arm,smmu-v3";
        reg = <0x1000 0x100>;
        #iommu-cells = <1>;
    }};
    dma@2000 {{
        compatible = "v,dma";
        reg = <0x2000 0x100>;
        iommus = <&smmu 1>, <&smmu 2>;
    }};
    pcie@3000 {{
        compatible = "pci-host-ecam-generic";
        device_type = "pci";
        reg = <0x3000 0x100>;
        #address-cells = <3>;
        #size-cells = <2>;
        iommu-map = <0x0 &smmu 0x100 0x100>, <0x100 &smmu 0x200 0x100>;
        iommu-map-mask = <0xffff>;
    }};
{planted}
}};
"#
    )
}

/// `iommugen dt --lint --format json` (plus `extra`) on `board(planted)`:
/// exit status and the lint and tree diagnostics as (code, message);
/// dtc's own warnings (`dt::W0399`: the host bridge has no `ranges`) are
/// tests/dt_excerpt.rs's.
fn lint(test: &str, planted: &str, extra: &[&str]) -> (i32, Vec<(String, String)>) {
    tools::require("dtc", "device-tree-compiler");
    let dir = scratch("dt_lint", test);
    let path = write(&dir, "board.dts", board(planted));
    let mut args = vec!["dt", "--lint", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&path);
    let out = iommugen(&args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", cli::stderr(&out)));
    let _ = std::fs::remove_dir_all(&dir);
    let found = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] != "dt::W0399")
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), found)
}

/// The one diagnostic a planted mistake gives: its code and message.
fn only(test: &str, planted: &str) -> (String, String) {
    let (code, found) = lint(test, planted, &[]);
    assert_eq!(code, 0, "warnings alone do not fail: {found:?}");
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn the_clean_board_has_no_findings() {
    let (code, found) = lint("clean", "", &["--deny-warnings"]);
    assert_eq!(found, vec![]);
    assert_eq!(code, 0);
}

#[test]
fn cell_count_no_spec_allows() {
    // arm,smmu-v3.yaml fixes #iommu-cells at 1; the spec's `cells 1`
    // agrees. Disabled, the node is never initialised, so only the lint
    // sees the <2>.
    let (code, message) = only(
        "cells",
        r#"    iommu@4000 {
        compatible = "arm,smmu-v3";
        reg = <0x4000 0x100>;
        #iommu-cells = <2>;
        status = "disabled";
    };"#,
    );
    assert_eq!(code, "dt::W0310");
    assert!(
        message.starts_with("/iommu@4000: #iommu-cells = <2>"),
        "{message}"
    );
    assert!(message.contains("arm_smmu_v3 allows 1"), "{message}");
}

#[test]
fn duplicate_ids_within_one_master() {
    // Two entries naming stream 7 of the same SMMU: the fwspec holds 7
    // twice.
    let (code, message) = only(
        "dup",
        r#"    dup@5000 {
        compatible = "v,dup";
        reg = <0x5000 0x100>;
        iommus = <&smmu 7>, <&smmu 7>;
    };"#,
    );
    assert_eq!(code, "dt::W0311");
    assert_eq!(
        message,
        "/dup@5000: ID 0x7 given more than once to /iommu@1000"
    );
}

#[test]
fn shadowed_iommu_map_entry() {
    // of_map_id takes the first entry covering the RID: entry 1 covers
    // RIDs 0x80-0x8f, all inside entry 0's 0x0-0xff, so it is never used.
    let (code, message) = only(
        "shadow",
        r#"    pcie@6000 {
        compatible = "pci-host-ecam-generic";
        device_type = "pci";
        reg = <0x6000 0x100>;
        #address-cells = <3>;
        #size-cells = <2>;
        iommu-map = <0x0 &smmu 0x1000 0x100>, <0x80 &smmu 0x2000 0x10>;
    };"#,
    );
    assert_eq!(code, "dt::W0312");
    assert!(
        message.contains("entry 1 (RIDs 0x80-0x8f) overlaps entry 0")
            && message.contains("entry 1 is never used"),
        "{message}"
    );
}

#[test]
fn partly_overlapping_map_entries() {
    // Entry 1 covers 0xf0-0x10f; 0xf0-0xff go to entry 0.
    let (code, message) = only(
        "overlap",
        r#"    pcie@6000 {
        compatible = "pci-host-ecam-generic";
        device_type = "pci";
        reg = <0x6000 0x100>;
        #address-cells = <3>;
        #size-cells = <2>;
        iommu-map = <0x0 &smmu 0x1000 0x100>, <0xf0 &smmu 0x2000 0x20>;
    };"#,
    );
    assert_eq!(code, "dt::W0312");
    assert!(message.contains("RIDs 0xf0-0xff take entry 0"), "{message}");
    assert!(!message.contains("never used"), "{message}");
}

#[test]
fn mask_folds_requesters_together() {
    // 0xfff8 clears the function bits: functions 0-7 of one device reach
    // the same stream ID.
    let (code, message) = only(
        "mask",
        r#"    pcie@7000 {
        compatible = "pci-host-ecam-generic";
        device_type = "pci";
        reg = <0x7000 0x100>;
        #address-cells = <3>;
        #size-cells = <2>;
        iommu-map = <0x0 &smmu 0x3000 0x10000>;
        iommu-map-mask = <0xfff8>;
    };"#,
    );
    assert_eq!(code, "dt::W0313");
    assert!(
        message.starts_with("/pcie@7000: iommu-map-mask 0xfff8"),
        "{message}"
    );
    assert!(message.contains("bits 0x7"), "{message}");
}

const DISABLED: &str = r#"    smmu_off: iommu@8000 {
        compatible = "arm,smmu-v3";
        reg = <0x8000 0x100>;
        #iommu-cells = <1>;
        status = "disabled";
    };
    isp@9000 {
        compatible = "v,isp";
        reg = <0x9000 0x100>;
        iommus = <&smmu_off 3>;
    };"#;

#[test]
fn master_pointing_at_a_disabled_iommu() {
    let (code, message) = only("disabled", DISABLED);
    assert_eq!(code, "dt::W0314");
    assert_eq!(
        message,
        "/isp@9000: iommus points at disabled IOMMU /iommu@8000: its DMA runs untranslated"
    );
}

#[test]
fn deny_warnings_fails_on_a_warning() {
    let (code, found) = lint("deny", DISABLED, &["--deny-warnings"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(code, 1);
    // Without --lint the planted mistake is no finding.
    tools::require("dtc", "device-tree-compiler");
    let dir = scratch("dt_lint", "nolint");
    let path = write(&dir, "board.dts", board(DISABLED));
    let out = iommugen(&["dt", "--format", "json", "--deny-warnings", &path]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Only dtc's warnings (the host bridge's missing `ranges`), which
    // --deny-warnings does not count.
    let diagnostics = v["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(|d| d["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("dtc (pci_bridge): /pcie@3000: "))),
        "{diagnostics:?}"
    );
    assert!(
        diagnostics.iter().all(|d| d["code"] == "dt::W0399"),
        "{diagnostics:?}"
    );
    assert_eq!(out.status.code(), Some(0));
    // Human form: the warning, drawn at its line, and why the status is 1.
    let out = iommugen(&["dt", "--lint", "--deny-warnings", &path]);
    assert_eq!(out.status.code(), Some(1));
    let text = cli::stdout(&out);
    assert!(text.contains("\ndt::W0314\n"), "{text}");
    assert!(text.contains("iommus = <&smmu_off 3>;"), "{text}");
    assert!(cli::stderr(&out).contains("--deny-warnings"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn iommu_map_entry_pointing_at_a_disabled_iommu() {
    // The requesters the entry covers reach of_iommu_xlate with an
    // unavailable IOMMU: -ENODEV, untranslated.
    let (code, message) = only(
        "disabled-map",
        r#"    smmu_off: iommu@8000 {
        compatible = "arm,smmu-v3";
        reg = <0x8000 0x100>;
        #iommu-cells = <1>;
        status = "disabled";
    };
    pcie@a000 {
        compatible = "pci-host-ecam-generic";
        device_type = "pci";
        reg = <0xa000 0x100>;
        #address-cells = <3>;
        #size-cells = <2>;
        iommu-map = <0x0 &smmu_off 0x0 0x100>;
    };"#,
    );
    assert_eq!(code, "dt::W0314");
    assert!(
        message.starts_with("/pcie@a000: iommu-map points at disabled IOMMU /iommu@8000"),
        "{message}"
    );
}

#[test]
fn specifier_bits_the_driver_drops() {
    // mediatek-m4u.iommu: MTK_M4U_ID(larb, port) uses bits 9..0 and the
    // mt8183 driver reads nothing above (`ignore cell[0][31:10]`), so the
    // 0x10400 of 0x10423 never reaches the hardware: larb 1, port 3, ID
    // 0x23.
    let (code, message) = only(
        "dropped",
        r#"    m4u: iommu@b000 {
        compatible = "mediatek,mt8183-m4u";
        reg = <0xb000 0x100>;
        #iommu-cells = <1>;
    };
    ovl@c000 {
        compatible = "v,ovl";
        reg = <0xc000 0x100>;
        iommus = <&m4u 0x10423>;
    };"#,
    );
    assert_eq!(code, "dt::W0315");
    assert_eq!(
        message,
        "/ovl@c000: specifier cell 0 (0x10423) for /iommu@b000 sets bits 0x10400, which mtk_m4u drops"
    );
}

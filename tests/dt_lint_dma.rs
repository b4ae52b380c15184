//! `iommugen dt --lint` on DMA windows and fwspec capacity: `dma-ranges`
//! that leave memory out of a direct-DMA master's reach (W0316) or reach
//! past the parent's window (W0317), a master that needs more than the
//! default fwspec holds (W0318), and one behind IOMMUs of two drivers
//! (W0319). Each board is otherwise clean; each case has a control that
//! differs only in the mistake and gives nothing.

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, write};

/// 2 GiB of memory at 0x40000000, an SMMUv3 and a Rockchip IOMMU, and a
/// `soc` bus with `bus` (its `dma-ranges` and children) inside.
fn board(dma_ranges: &str, children: &str) -> String {
    format!(
        r#"/dts-v1/;
/ {{
    #address-cells = <1>;
    #size-cells = <1>;
    memory@40000000 {{
        device_type = "memory";
        reg = <0x40000000 0x80000000>;
    }};
    smmu: iommu@1000 {{
        compatible = "arm,smmu-v3";
        reg = <0x1000 0x100>;
        #iommu-cells = <1>;
    }};
    rkmmu: iommu@1800 {{
        compatible = "rockchip,iommu";
        reg = <0x1800 0x100>;
        #iommu-cells = <0>;
    }};
    soc {{
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        {dma_ranges}
{children}
    }};
}};
"#
    )
}

/// The lint's findings (code, message) on `dts`, dtc's own left out.
fn lint(test: &str, dts: String) -> Vec<(String, String)> {
    tools::require("dtc", "device-tree-compiler");
    let dir = scratch("dt_lint_dma", test);
    let path = write(&dir, "board.dts", dts);
    let out = iommugen(&["dt", "--lint", "--format", "json", &path]);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", cli::stderr(&out)));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "warnings alone do not fail");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] != "dt::W0399")
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_owned(),
                d["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

const MMC: &str = r#"        mmc@5000 {
            compatible = "v,mmc";
            reg = <0x5000 0x100>;
        };"#;

#[test]
fn a_window_that_leaves_memory_out_of_a_direct_master() {
    // 1 GiB window from bus 0 onto CPU 0x40000000: the upper GiB of
    // memory is out of the MMC's reach.
    let found = lint(
        "short",
        board("dma-ranges = <0x0 0x40000000 0x40000000>;", MMC),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let (code, message) = &found[0];
    assert_eq!(code, "dt::W0316");
    assert!(
        message.starts_with("/soc: dma-ranges reach CPU 0x40000000..=0x7fffffff only"),
        "{message}"
    );
    assert!(
        message.contains("memory 0x80000000..=0xbfffffff"),
        "{message}"
    );
    assert!(message.contains("/soc/mmc@5000"), "{message}");
    assert!(message.contains("swiotlb"), "{message}");
}

#[test]
fn a_window_covering_memory_or_an_iommu_in_front_is_clean() {
    let whole = board("dma-ranges = <0x0 0x40000000 0x80000000>;", MMC);
    assert_eq!(lint("whole", whole), vec![]);
    let behind_iommu = r#"        mmc@5000 {
            compatible = "v,mmc";
            reg = <0x5000 0x100>;
            iommus = <&smmu 3>;
        };"#;
    let translated = board("dma-ranges = <0x0 0x40000000 0x40000000>;", behind_iommu);
    assert_eq!(lint("translated", translated), vec![]);
}

/// A child bus below `soc` with its own `dma-ranges`.
fn nested(entries: &str) -> String {
    board(
        "dma-ranges = <0x0 0x40000000 0x40000000>;",
        &format!(
            r#"        sub {{
            compatible = "simple-bus";
            #address-cells = <1>;
            #size-cells = <1>;
            ranges;
            dma-ranges = {entries};
        }};"#
        ),
    )
}

#[test]
fn an_entry_whose_tail_is_outside_the_parent_window() {
    // soc's window covers its bus addresses 0..=0x3fffffff; sub reaches
    // 0..=0x7fffffff of them.
    let found = lint("tail", nested("<0x0 0x0 0x80000000>"));
    assert_eq!(found.len(), 1, "{found:?}");
    let (code, message) = &found[0];
    assert_eq!(code, "dt::W0317");
    assert!(
        message.contains("/soc/sub: dma-ranges entry 0 reaches 0x0..=0x7fffffff"),
        "{message}"
    );
    assert!(
        message.contains("do not cover 0x40000000..=0x7fffffff"),
        "{message}"
    );
    assert!(message.contains("keeps the entry whole"), "{message}");
}

#[test]
fn an_entry_whose_start_is_outside_the_parent_window() {
    let found = lint(
        "start",
        nested("<0x0 0x0 0x10000000>, <0x10000000 0x50000000 0x1000>"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let (code, message) = &found[0];
    assert_eq!(code, "dt::W0317");
    assert!(
        message.contains("entry 1 reaches 0x50000000..=0x50000fff"),
        "{message}"
    );
    assert!(message.contains("drops the entry"), "{message}");
}

#[test]
fn an_entry_inside_the_parent_window_is_clean() {
    assert_eq!(
        lint("inside", nested("<0x0 0x10000000 0x10000000>")),
        vec![]
    );
}

#[test]
fn more_ids_than_the_default_fwspec_holds() {
    let iommus = |n: u32| {
        (1..=n)
            .map(|i| format!("<&smmu {i}>"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let master = |n| {
        format!(
            "        dma@6000 {{\n            compatible = \"v,dma\";\n            \
             reg = <0x6000 0x100>;\n            iommus = {};\n        }};",
            iommus(n)
        )
    };
    let found = lint("ids33", board("", &master(33)));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "dt::W0318");
    assert!(
        found[0]
            .1
            .contains("needs 1 IOMMU instance(s) and 33 ID(s)"),
        "{}",
        found[0].1
    );
    assert!(found[0].1.contains("holds 4 and 32"), "{}", found[0].1);
    assert_eq!(lint("ids32", board("", &master(32))), vec![]);
}

#[test]
fn a_master_behind_iommus_of_two_drivers() {
    let two = r#"        vop@7000 {
            compatible = "v,vop";
            reg = <0x7000 0x100>;
            iommus = <&smmu 4>, <&rkmmu>;
        };"#;
    let found = lint("two", board("", two));
    assert_eq!(found.len(), 1, "{found:?}");
    let (code, message) = &found[0];
    assert_eq!(code, "dt::W0319");
    assert!(
        message.contains("/iommu@1000 (arm_smmu_v3) and /iommu@1800 (rockchip_iommu)"),
        "{message}"
    );
    assert!(message.contains("-EINVAL"), "{message}");
    let one = r#"        vop@7000 {
            compatible = "v,vop";
            reg = <0x7000 0x100>;
            iommus = <&smmu 4>, <&smmu 5>;
        };"#;
    assert_eq!(lint("one", board("", one)), vec![]);
}

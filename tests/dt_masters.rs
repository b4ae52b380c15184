//! `iommugen dt` for every DMA master (issue 12): masters with no IOMMU,
//! PCI requesters that land on a disabled or unclaimed IOMMU, specifiers
//! beside the IDs `of_xlate` stored, and the specs loaded. Expected values
//! come from Linux's rules (drivers/of/platform.c, drivers/of/device.c,
//! drivers/iommu/of_iommu.c) and the bindings, worked out by hand.

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, write};

/// Write `dts` to a scratch file and run `iommugen dt` on it (it compiles
/// the source with dtc): exit code, JSON report, human report.
fn run(test: &str, dts: &str, extra: &[&str]) -> (i32, Value, String) {
    tools::require("dtc", "device-tree-compiler");
    let dir = scratch("dt_masters", test);
    let path = write(&dir, "board.dts", dts);
    let mut args = vec!["dt", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&path);
    let out = iommugen(&args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", cli::stderr(&out)));
    let mut human_args: Vec<&str> = extra.to_vec();
    human_args.insert(0, "dt");
    human_args.push(&path);
    let human = cli::stdout(&iommugen(&human_args));
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.code().unwrap_or(-1), v, human)
}

fn paths(v: &Value) -> Vec<String> {
    v["masters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap().to_owned())
        .collect()
}

fn master<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["masters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path)
        .unwrap_or_else(|| panic!("no master {path} in {v:#}"))
}

fn rid(v: &Value, rid: u64) -> &Value {
    v["pci"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["rid"] == rid)
        .unwrap_or_else(|| panic!("no RID {rid:#x} in {v:#}"))
}

const POPULATE: &str = r#"/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    cpus {
        #address-cells = <1>;
        #size-cells = <0>;
        cpu@0 { compatible = "arm,cortex-a53"; device_type = "cpu"; reg = <0>; };
    };
    memory@80000000 { device_type = "memory"; reg = <0x80000000 0x1000>; };
    smmu: iommu@1000 {
        compatible = "arm,smmu-v3";
        reg = <0x1000 0x100>;
        #iommu-cells = <1>;
        dma-coherent;
    };
    serial@2000 {
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x2000 0x100>;
        #address-cells = <1>;
        #size-cells = <1>;
        child@0 { compatible = "v,child"; reg = <0 0x10>; };
    };
    regulator { compatible = "regulator-fixed"; };
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        dma-coherent;
        dma-ranges = <0x0 0x40000000 0x40000000>;
        dma@3000 { compatible = "v,dma"; reg = <0x3000 0x100>; };
        nc@3100 { compatible = "v,nc"; reg = <0x3100 0x100>; dma-noncoherent; };
        off@3200 { compatible = "v,off"; reg = <0x3200 0x100>; status = "disabled"; };
        mmc@3300 { compatible = "v,mmc"; reg = <0x3300 0x100>; iommus = <&smmu 5>; };
        glue {
            compatible = "v,glue";
            #address-cells = <1>;
            #size-cells = <1>;
            inner@0 { compatible = "v,inner"; reg = <0 0x10>; };
        };
        pmic@4000 {
            compatible = "v,pmic", "simple-mfd";
            reg = <0x4000 0x100>;
            #address-cells = <1>;
            #size-cells = <1>;
            gpio@10 { compatible = "v,gpio"; reg = <0x10 0x4>; };
        };
    };
    offbus {
        compatible = "simple-bus";
        status = "disabled";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        hidden@5000 { compatible = "v,hidden"; reg = <0x5000 0x10>; };
    };
};
"#;

#[test]
fn every_populated_device_with_registers_is_a_master() {
    // of_platform_default_populate: the root's children and the children
    // of created simple-bus / simple-mfd nodes get devices when they have
    // `compatible` and status okay; arm,primecell children, children of
    // other nodes (glue), of disabled buses, and nodes without
    // `compatible` (cpus, memory) get none. `regulator` gets a device but
    // has no registers, so it is not listed.
    let (code, v, _) = run("populate", POPULATE, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        paths(&v),
        [
            "/iommu@1000",
            "/serial@2000",
            "/soc/dma@3000",
            "/soc/nc@3100",
            "/soc/mmc@3300",
            "/soc/pmic@4000",
            "/soc/pmic@4000/gpio@10",
        ]
    );
}

#[test]
fn masters_without_an_iommu_get_direct_dma_with_coherence_and_limit() {
    let (_, v, human) = run("direct", POPULATE, &[]);
    // of_dma_is_coherent: the nearest dma-coherent / dma-noncoherent on
    // the node or its parents. soc says dma-coherent; nc@3100 overrides.
    let dma = master(&v, "/soc/dma@3000");
    assert_eq!(dma["translation"], "direct");
    assert_eq!(dma["untranslated"]["reason"], "no-iommu");
    assert_eq!(dma["dma_coherent"], true);
    assert_eq!(master(&v, "/soc/nc@3100")["dma_coherent"], false);
    // The root says nothing: non-coherent (arm64's default). The SMMU's
    // own dma-coherent covers its table walks and queues.
    assert_eq!(master(&v, "/serial@2000")["dma_coherent"], false);
    assert_eq!(master(&v, "/iommu@1000")["dma_coherent"], true);
    // soc's dma-ranges <0 0x40000000 0x40000000>: bus addresses 0..1 GiB,
    // so the bus limit and mask are 30 bits; nothing limits the root's.
    assert_eq!(dma["dma_window"]["base"], 0);
    assert_eq!(dma["dma_window"]["size"], 0x4000_0000u64);
    assert_eq!(dma["dma_mask"], 0x3fff_ffffu64);
    assert!(master(&v, "/serial@2000")["dma_window"].is_null());
    assert_eq!(master(&v, "/serial@2000")["dma_mask"], u64::MAX);
    for p in ["/soc/dma@3000", "/serial@2000", "/soc/pmic@4000/gpio@10"] {
        let m = master(&v, p);
        assert!(m["error"].is_null() && m["domain"].is_null(), "{m}");
        assert_eq!(m["translations"], serde_json::json!([]));
    }
    // The translated master says so, with no reason.
    let mmc = master(&v, "/soc/mmc@3300");
    assert_eq!(mmc["translation"], "iommu");
    assert!(mmc["untranslated"].is_null());
    assert!(human.contains("/soc/dma@3000"), "{human}");
    assert!(human.contains("ops: direct (untranslated)"), "{human}");
}

#[test]
fn each_specifier_beside_the_ids_of_xlate_stored() {
    // arm,smmu.yaml, two cells <SID mask>: arm_smmu_of_xlate keeps
    // mask << 16 | SID. <0x100 0xf> → 0xf0100, <0x740 0> → 0x740.
    let dts = r#"/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    apps: iommu@1000 {
        compatible = "arm,mmu-500";
        reg = <0x1000 0x100>;
        #iommu-cells = <2>;
    };
    ufs@2000 {
        compatible = "v,ufs";
        reg = <0x2000 0x100>;
        iommus = <&apps 0x100 0xf>, <&apps 0x740 0>;
    };
};
"#;
    let (code, v, human) = run("specifiers", dts, &[]);
    assert_eq!(code, 0, "{v:#}");
    let t = &master(&v, "/ufs@2000")["translations"][0];
    assert_eq!(t["iommu"], "/iommu@1000");
    assert_eq!(t["ids"], serde_json::json!([0xf0100, 0x740]));
    assert_eq!(
        t["specifiers"],
        serde_json::json!([
            { "cells": [0x100, 0xf], "ids": [0xf0100] },
            { "cells": [0x740, 0], "ids": [0x740] },
        ])
    );
    assert!(
        human.contains("specifier <0x100 0xf> -> 0xf0100"),
        "{human}"
    );
}

const PCI: &str = r#"/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    smmu: iommu@1000 {
        compatible = "arm,mmu-500";
        reg = <0x1000 0x100>;
        #iommu-cells = <1>;
        stream-match-mask = <0x7c00>;
    };
    smmu_off: iommu@6000 {
        compatible = "arm,mmu-500";
        reg = <0x6000 0x100>;
        #iommu-cells = <1>;
        status = "disabled";
    };
    other: iommu@7000 {
        compatible = "vendor,unknown-iommu";
        reg = <0x7000 0x100>;
        #iommu-cells = <1>;
    };
    pcie@8000 {
        compatible = "pci-host-ecam-generic";
        device_type = "pci";
        reg = <0x8000 0x1000>;
        #address-cells = <3>;
        #size-cells = <2>;
        iommu-map = <0x000 &smmu 0x100 0x100>,
                    <0x100 &smmu_off 0x0 0x100>,
                    <0x200 &other 0x0 0x100>;
    };
};
"#;

#[test]
fn pci_requesters_say_whether_and_why_they_run_untranslated() {
    let host = "/pcie@8000";
    let rids: Vec<String> = ["0x10", "0x105", "0x203", "0x300"]
        .iter()
        .map(|r| format!("{host}@{r}"))
        .collect();
    let mut extra = Vec::new();
    for r in &rids {
        extra.extend(["--rid", r.as_str()]);
    }
    let (code, v, human) = run("pci", PCI, &extra);
    // RID 0x10: first entry, 0x100 + 0x10 = 0x110 handed to of_xlate as
    // one cell; with one cell arm_smmu_of_xlate takes the mask from
    // stream-match-mask: 0x7c00 << 16 | 0x110.
    let ok = rid(&v, 0x10);
    assert_eq!(ok["iommu"], "/iommu@1000");
    assert_eq!(ok["id"], 0x110);
    assert_eq!(ok["ids"], serde_json::json!([0x7c00_0110u32]));
    assert_eq!(ok["translation"], "iommu");
    assert!(ok["untranslated"].is_null());
    // RID 0x105 → smmu_off ID 5: of_iommu_xlate sees the IOMMU
    // unavailable (-ENODEV), so the function runs untranslated, no error.
    let off = rid(&v, 0x105);
    assert_eq!(off["iommu"], "/iommu@6000");
    assert_eq!(off["id"], 5);
    assert_eq!(off["ids"], serde_json::json!([]));
    assert_eq!(off["translation"], "direct");
    assert_eq!(off["untranslated"]["reason"], "iommu-disabled");
    assert!(off["error"].is_null());
    // RID 0x203 → an IOMMU no driver claims: the probe defers, then runs
    // untranslated; an error for the report.
    let unclaimed = rid(&v, 0x203);
    assert_eq!(unclaimed["iommu"], "/iommu@7000");
    assert_eq!(unclaimed["id"], 3);
    assert_eq!(unclaimed["translation"], "deferred");
    assert_eq!(unclaimed["untranslated"]["reason"], "iommu-unclaimed");
    assert!(unclaimed["untranslated"]["message"]
        .as_str()
        .unwrap()
        .contains("untranslated"));
    assert!(!unclaimed["error"].is_null());
    // RID 0x300: no entry covers it (of_map_id bypasses translation).
    let none = rid(&v, 0x300);
    assert!(none["iommu"].is_null() && none["id"].is_null());
    assert_eq!(none["translation"], "direct");
    assert_eq!(none["untranslated"]["reason"], "no-map-entry");
    assert_eq!(code, 1);
    assert!(
        human.contains("RID 0x10 -> /iommu@1000 ID 0x110, fwspec IDs [0x7c000110]"),
        "{human}"
    );
    assert!(human.contains("untranslated (iommu-disabled)"), "{human}");
}

#[test]
fn the_specs_loaded_head_the_report() {
    let root = env!("CARGO_MANIFEST_DIR");
    let smmu = format!("{root}/examples/arm-smmu.iommu");
    let v3 = format!("{root}/examples/arm-smmu-v3.iommu");
    let (_, v, human) = run("specs", PCI, &["--spec", &smmu, "--spec", &v3]);
    assert_eq!(v["specs"], serde_json::json!([smmu, v3]));
    assert!(
        human.starts_with(&format!("Specs (2):\n  {smmu}\n  {v3}\n")),
        "{human}"
    );
    // Without --spec: every shipped examples/*.iommu, sorted.
    let (_, v, _) = run("default-specs", PCI, &[]);
    let specs: Vec<&str> = v["specs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(specs.contains(&"examples/arm-smmu.iommu"), "{specs:?}");
    let mut sorted = specs.clone();
    sorted.sort();
    assert_eq!(specs, sorted);
}

//! `iommugen dt` on the Qualcomm msm8916 IOMMUs (tests/dts/msm8916-iommu.dts,
//! from Linux's msm8916.dtsi) with `examples/qcom-iommu.iommu`. The
//! expected IDs follow Linux's qcom_iommu_of_xlate, which stores the cell
//! (the context bank's number) once it has found a probed bank with that
//! number: the bank at `reg` offset N * 0x1000, or the one whose
//! `qcom,ctx-asid` is N. Groups (so domains) are per master
//! (generic_device_group).

use std::path::Path;

use serde_json::Value;

mod tools;

mod cli;
use cli::report::{find, translations};
use cli::{scratch, write};
fn json(path: &str) -> (i32, Value) {
    tools::require("dtc", "device-tree-compiler");
    cli::report::dt_json(path, &[])
}

fn real_tree() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/msm8916-iommu.dts");
    std::fs::read_to_string(path).unwrap()
}

const APPS: &str = "/soc@0/iommu@1ef0000";
const GPU: &str = "/soc@0/iommu@1f08000";

#[test]
fn msm8916_masters_get_their_context_banks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/msm8916-iommu.dts");
    let (code, v) = json(&path.display().to_string());
    assert_eq!(code, 0, "{v:#}");
    for p in [APPS, GPU] {
        let i = find(&v, "iommus", p);
        assert_eq!(i["status"], "initialised", "{i:#}");
        assert_eq!(i["driver"], "qcom_iommu");
    }
    let cases = [
        ("/soc@0/mdss@1a00000/mdp@1a01000", APPS, vec![4]),
        ("/soc@0/camss@1b00000", APPS, vec![3]),
        ("/soc@0/video-codec@1d00000", APPS, vec![5]),
        // Two banks of one IOMMU: both IDs in one fwspec, as Linux allows.
        ("/soc@0/gpu@1c00000", GPU, vec![1, 2]),
    ];
    let mut domains = vec![];
    for (master, iommu, ids) in cases {
        let m = find(&v, "masters", master);
        assert!(m["error"].is_null(), "{m:#}");
        assert_eq!(m["translation"], "iommu", "{m:#}");
        assert_eq!(translations(m), vec![(iommu.to_owned(), ids)], "{master}");
        domains.push(m["domain"].as_u64().expect("a domain"));
    }
    // generic_device_group: a domain per master.
    domains.sort_unstable();
    domains.dedup();
    assert_eq!(domains.len(), 4, "{v:#}");
}

/// Masters naming a bank number no probed bank has are refused with the
/// statement that failed; Linux's of_xlate returns -EINVAL for each
/// (number above the largest bank, or no bank with that number).
#[test]
fn a_context_bank_that_does_not_exist_is_refused() {
    let planted = real_tree()
        // A bank Linux never creates a device for (status disabled).
        .replace(
            "\t\t\t// gfx3d_priv:\n\t\t\tiommu-ctx@2000 {\n",
            "\t\t\t// gfx3d_priv:\n\t\t\tiommu-ctx@2000 {\n\t\t\t\tstatus = \"disabled\";\n",
        )
        // A bank numbered by qcom,ctx-asid rather than its offset.
        .replace(
            "\t\t\t// venus_ns:\n",
            "\t\t\tiommu-ctx@15000 {\n\t\t\t\tcompatible = \"qcom,msm-iommu-v1-ns\";\n\
             \t\t\t\treg = <0x15000 0x1000>;\n\t\t\t\tqcom,ctx-asid = <20>;\n\t\t\t};\n\n\
             \t\t\t// venus_ns:\n",
        )
        .replace(
            "\t\tapps_iommu: iommu@1ef0000 {\n",
            "\t\tdma@100000 {\n\t\t\treg = <0x100000 0x1000>;\n\t\t\tiommus = <&apps_iommu 6>;\n\t\t};\n\n\
             \t\tdma@110000 {\n\t\t\treg = <0x110000 0x1000>;\n\t\t\tiommus = <&apps_iommu 0>;\n\t\t};\n\n\
             \t\tdma@120000 {\n\t\t\treg = <0x120000 0x1000>;\n\t\t\tiommus = <&apps_iommu 20>;\n\t\t};\n\n\
             \t\tdma@130000 {\n\t\t\treg = <0x130000 0x1000>;\n\t\t\tiommus = <&apps_iommu 21>;\n\t\t};\n\n\
             \t\tapps_iommu: iommu@1ef0000 {\n",
        );
    assert!(
        planted.contains("dma@130000")
            && planted.contains("ctx-asid")
            && planted.contains("disabled")
    );
    let dir = scratch("dt_qcom", "missing_bank");
    let path = write(&dir, "board.dts", &planted);
    let (code, v) = json(&path);
    assert_ne!(code, 0, "{v:#}");
    for (master, key) in [
        ("/soc@0/dma@100000", 6),
        ("/soc@0/dma@110000", 0),
        // 0x15000 / 0x1000, but the bank says qcom,ctx-asid = <20>.
        ("/soc@0/dma@130000", 21),
        // Bank 2 of the GPU IOMMU is disabled: the GPU's second entry.
        ("/soc@0/gpu@1c00000", 2),
    ] {
        let m = find(&v, "masters", master);
        let error = m["error"].as_str().unwrap_or_else(|| panic!("{m:#}"));
        assert!(error.contains("no available child node matches"), "{error}");
        assert!(error.contains("qcom,msm-iommu-v1-ns"), "{error}");
        assert!(
            error.ends_with(&format!("with key {key}"))
                || error.contains(&format!("with key {key};")),
            "{error}"
        );
        assert_ne!(m["translation"], "iommu", "{m:#}");
    }
    let by_asid = find(&v, "masters", "/soc@0/dma@120000");
    assert!(by_asid["error"].is_null(), "{by_asid:#}");
    assert_eq!(translations(by_asid), vec![(APPS.to_owned(), vec![20])]);
    // The other masters are untouched.
    let mdp = find(&v, "masters", "/soc@0/mdss@1a00000/mdp@1a01000");
    assert_eq!(translations(mdp), vec![(APPS.to_owned(), vec![4])]);
}

/// tests/dts/msm8916-two-iommus.dts: a master whose `iommus` name a bank
/// of apps_iommu and a bank of gpu_iommu. Linux's qcom_iommu_of_xlate
/// keeps the first qcom_iommu a master names and fails an entry naming
/// another with -EINVAL, so of_dma_configure carries on without the IOMMU
/// (direct DMA); the spec's `master one instance;` refuses it once both
/// entries are read: `probe-refused`, not an error of the tree.
#[test]
fn a_master_across_two_qcom_iommus_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/msm8916-two-iommus.dts");
    let (code, v) = json(&path.display().to_string());
    assert_eq!(code, 0, "{v:#}");
    let m = find(&v, "masters", "/soc@0/dma@100000");
    assert!(m["error"].is_null(), "{m:#}");
    assert_eq!(m["translation"], "direct", "{m:#}");
    assert!(m["domain"].is_null(), "{m:#}");
    assert_eq!(m["untranslated"]["reason"], "probe-refused", "{m:#}");
    let message = m["untranslated"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(APPS) && message.contains(GPU) && message.contains("master one instance"),
        "{message}"
    );
    // Two banks of one IOMMU stay fine.
    let gpu = find(&v, "masters", "/soc@0/gpu@1c00000");
    assert_eq!(gpu["translation"], "iommu", "{gpu:#}");
    assert_eq!(translations(gpu), vec![(GPU.to_owned(), vec![1, 2])]);
    // The human report names the reason too.
    let path = path.display().to_string();
    let text = cli::stdout(&cli::iommugen(&["dt", &path]));
    assert!(
        text.contains("IOMMU /soc@0/iommu@1ef0000's driver refuses the master once all its specifiers are read"),
        "{text}"
    );
    assert!(
        text.contains("ops: direct (untranslated, probe-refused)"),
        "{text}"
    );
}

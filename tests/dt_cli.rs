//! `iommugen dt` on fragments of real Linux device trees (tests/dts/, each
//! citing its source file). Every expected ID is worked out by hand from the
//! binding named in the test, not taken from our own output.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod tools;

mod cli;
use cli::iommugen;

fn dts(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dts")
        .join(name)
        .display()
        .to_string()
}

/// Run `dt --format json` and return (exit code, report).
fn dt_json(file: &str, extra: &[&str]) -> (i32, Value) {
    tools::require("dtc", "device-tree-compiler");
    let path = dts(file);
    let mut args = vec!["dt", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&path);
    let out = iommugen(&args);
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

fn master<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["masters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path)
        .unwrap_or_else(|| panic!("no master {path} in {v:#}"))
}

fn iommu<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["iommus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path)
        .unwrap_or_else(|| panic!("no IOMMU {path}"))
}

/// `[(iommu, [ids])]` of a master.
fn translations(m: &Value) -> Vec<(String, Vec<u64>)> {
    m["translations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["iommu"].as_str().unwrap().to_owned(),
                t["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

fn pci(v: &Value, rid: u64) -> (Option<String>, Option<u64>) {
    let p = v["pci"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["rid"] == rid)
        .unwrap();
    assert!(p["error"].is_null(), "{p}");
    (p["iommu"].as_str().map(str::to_owned), p["id"].as_u64())
}

#[test]
fn juno_mmu401_one_cell_stream_ids_and_pcie_map_with_zero_mask() {
    // arm,smmu.yaml with #iommu-cells = 1 and no stream-match-mask: the ID is
    // the stream ID with a zero mask (0 << 16 | SID). The PL330 names SIDs
    // 0..8 on smmu_dma; the ETR SID 0 on smmu_etr.
    let (code, v) = dt_json("juno-mmu401.dts", &["--rid", "/pcie@40000000@0x100"]);
    assert_eq!(code, 0);
    assert_eq!(
        translations(master(&v, "/dma-controller@7ff00000")),
        vec![("/iommu@7fb00000".into(), (0..=8).collect())]
    );
    assert_eq!(
        translations(master(&v, "/etr@20070000")),
        vec![("/iommu@2b600000".into(), vec![0])]
    );
    // dma-coherent on the node itself; the ETR says nothing: non-coherent.
    assert_eq!(master(&v, "/dma-controller@7ff00000")["dma_coherent"], true);
    assert_eq!(master(&v, "/etr@20070000")["dma_coherent"], false);
    // No dma-ranges above either master: no window.
    assert!(master(&v, "/etr@20070000")["dma_window"].is_null());
    // pci-iommu.yaml: iommu-map-mask 0 masks every RID to 0, which the single
    // entry <0 &smmu_pcie 0 1> maps to stream 0.
    assert_eq!(pci(&v, 0x100), (Some("/iommu@2b500000".into()), Some(0)));
    for i in v["iommus"].as_array().unwrap() {
        assert_eq!(i["status"], "initialised");
        assert_eq!(i["driver"], "arm_smmu");
    }
}

#[test]
fn qualcomm_apps_smmu_two_cell_sid_and_mask() {
    // arm,smmu.yaml with #iommu-cells = 2: <SID mask>, kept as mask << 16 |
    // SID. UFS <0x100 0xf> → 0x000f_0100; USB <0x740 0> → 0x740.
    let (code, v) = dt_json("sdm845-apps-smmu.dts", &[]);
    let smmu = "/soc@0/iommu@15000000";
    assert_eq!(
        translations(master(&v, "/soc@0/ufshc@1d84000")),
        vec![(smmu.into(), vec![0x000f_0100])]
    );
    assert_eq!(
        translations(master(&v, "/soc@0/usb@a6f8800/usb@a600000")),
        vec![(smmu.into(), vec![0x740])]
    );
    // "qcom,sdm845-smmu-500" is tried first and claimed by the Qualcomm
    // member of the Arm SMMU family (arm-smmu.iommu's `qcom_smmu extends
    // arm_smmu`), as Linux's arm-smmu matches it and picks its Qualcomm
    // implementation.
    assert_eq!(iommu(&v, smmu)["driver"], "qcom_smmu");
    // The Adreno SMMU ("qcom,sdm845-smmu-v2", "qcom,adreno-smmu",
    // "qcom,smmu-v2"): no driver lists the first string, "qcom,adreno-smmu"
    // selects the Adreno member, whose one cell is the stream ID: <0> → 0.
    let adreno = "/soc@0/iommu@5040000";
    assert_eq!(iommu(&v, adreno)["status"], "initialised");
    assert_eq!(iommu(&v, adreno)["driver"], "qcom_adreno_smmu");
    // The GPU ("qcom,adreno-630.2", "qcom,adreno") is on Linux's
    // qcom_smmu_def_domain_type client list: an identity default domain,
    // untranslated until the GPU driver attaches its own; the UFS and USB
    // controllers are not, and are translated.
    let gpu = master(&v, "/soc@0/gpu@5000000");
    assert!(gpu["error"].is_null());
    assert_eq!(gpu["translation"], "direct");
    assert_eq!(gpu["untranslated"]["reason"], "identity-default");
    assert_eq!(translations(gpu), vec![(adreno.into(), vec![0])]);
    for m in ["/soc@0/ufshc@1d84000", "/soc@0/usb@a6f8800/usb@a600000"] {
        assert_eq!(master(&v, m)["translation"], "iommu", "{m}");
    }
    assert_eq!(code, 0);
    // soc@0's dma-ranges cover 0x10_0000_0000 bytes from bus address 0; the
    // USB controller's own bus (usb@a6f8800) has none, which Linux skips.
    for m in ["/soc@0/ufshc@1d84000", "/soc@0/usb@a6f8800/usb@a600000"] {
        assert_eq!(master(&v, m)["dma_window"]["base"], 0);
        assert_eq!(master(&v, m)["dma_window"]["size"], 0x10_0000_0000u64);
    }
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.is_empty(), "{codes:?}");
}

#[test]
fn mediatek_m4u_larb_port_cells() {
    // mediatek,iommu.yaml: the cell is MTK_M4U_ID(larb, port) = larb << 5 |
    // port and the driver keeps it whole: (0,0) → 0, (0,2) → 2, (1,0) →
    // 0x20, (1,3) → 0x23.
    let (code, v) = dt_json("mt8183-m4u.dts", &[]);
    assert_eq!(code, 0);
    let m4u = "/soc/iommu@10205000";
    assert_eq!(
        translations(master(&v, "/soc/ovl@14008000")),
        vec![(m4u.into(), vec![0])]
    );
    assert_eq!(
        translations(master(&v, "/soc/rdma@1400b000")),
        vec![(m4u.into(), vec![2])]
    );
    assert_eq!(
        translations(master(&v, "/soc/video-codec@16000000")),
        vec![(m4u.into(), vec![0x20, 0x23])]
    );
}

#[test]
fn rockchip_zero_cells_and_disabled_mmu() {
    // rockchip,iommu.yaml: #iommu-cells = 0, the master is known by the
    // phandle alone (no IDs). A disabled IOMMU leaves its master untranslated
    // without error (of_iommu_xlate gives -ENODEV).
    let (code, v) = dt_json("rk3399-iommu.dts", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        translations(master(&v, "/vop@ff8f0000")),
        vec![("/iommu@ff8f3f00".into(), vec![])]
    );
    let isp = master(&v, "/isp0@ff910000");
    assert!(translations(isp).is_empty());
    assert!(isp["error"].is_null());
    assert_eq!(iommu(&v, "/iommu@ff914000")["status"], "disabled");
    // of_iommu_xlate's -ENODEV means direct DMA ops, said in the JSON.
    assert_eq!(isp["translation"], "direct");
    assert_eq!(isp["untranslated"]["reason"], "iommu-disabled");
    assert_eq!(master(&v, "/vop@ff8f0000")["translation"], "iommu");
}

#[test]
fn apple_dart_streams_and_pcie_ports_through_masked_map() {
    // apple,dart.yaml: one cell, the stream index. USB uses streams 0 and 1.
    // PCIe: iommu-map-mask 0xff00 keeps the bus number; bus 1 → pcie0_dart_0
    // stream 1, bus 2 → pcie0_dart_1 stream 1; bus 0 has no entry.
    let host = "/soc/pcie@690000000";
    let (code, v) = dt_json(
        "t8103-dart.dts",
        &[
            "--rid",
            &format!("{host}@0x100"),
            "--rid",
            &format!("{host}@0x0205"),
            "--rid",
            &format!("{host}@0"),
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        translations(master(&v, "/soc/usb@382280000")),
        vec![("/soc/iommu@382f80000".into(), vec![0, 1])]
    );
    assert_eq!(
        pci(&v, 0x100),
        (Some("/soc/iommu@681008000".into()), Some(1))
    );
    assert_eq!(
        pci(&v, 0x205),
        (Some("/soc/iommu@682008000".into()), Some(1))
    );
    assert_eq!(pci(&v, 0), (None, None));
}

#[test]
fn layerscape_pcie_iommu_map_with_mask() {
    // of_map_id: RID & 0xfff8, then <rid-base &smmu out-base 1>. 0x0101 →
    // 0x0100 → stream 0x11; 0x010a → 0x0108 → 0x12; 0x0200 → no entry.
    let host = "/soc/pcie@3400000";
    let (code, v) = dt_json(
        "lx2160a-pcie.dts",
        &[
            "--rid",
            &format!("{host}@0x0101"),
            "--rid",
            &format!("{host}@266"),
            "--rid",
            &format!("{host}@0x200"),
        ],
    );
    assert_eq!(code, 0);
    let smmu = "/soc/iommu@5000000".to_string();
    assert_eq!(pci(&v, 0x101), (Some(smmu.clone()), Some(0x11)));
    assert_eq!(pci(&v, 0x10a), (Some(smmu.clone()), Some(0x12)));
    assert_eq!(pci(&v, 0x200), (None, None));
    // The soc's dma-ranges: 0x1_0000_0000_0000 bytes (48 bits) from 0.
    let usb = master(&v, "/soc/usb@3100000");
    assert_eq!(translations(usb), vec![(smmu, vec![4])]);
    assert_eq!(usb["dma_window"]["size"], 1u64 << 48);
}

#[test]
fn explicit_spec_limits_the_drivers() {
    // Only the Rockchip spec: the Juno SMMUs are unclaimed.
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rockchip-iommu.iommu");
    let (code, v) = dt_json("juno-mmu401.dts", &["--spec", spec.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(iommu(&v, "/iommu@7fb00000")["status"], "unclaimed");
}

#[test]
fn disabled_master_is_reported_but_not_configured() {
    // Linux's of_platform_populate creates no device for a node whose own
    // status is not okay (of_device_is_available), so of_iommu_configure
    // never runs for it: no IDs, no domain, and no error even though its
    // specifier is one the driver would refuse (three cells for a 1-cell
    // SMMUv3).
    let dir = std::env::temp_dir().join(format!("iommugen-dt-disabled-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("disabled-master.dts");
    std::fs::write(
        &file,
        r#"/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <2>;
    smmu: iommu@2b400000 {
        compatible = "arm,smmu-v3";
        reg = <0x0 0x2b400000 0x0 0x20000>;
        #iommu-cells = <1>;
    };
    dma@10000000 {
        reg = <0x0 0x10000000 0x0 0x1000>;
        iommus = <&smmu 7>;
    };
    dma@20000000 {
        reg = <0x0 0x20000000 0x0 0x1000>;
        iommus = <&smmu 1 2 3>;
        status = "disabled";
    };
};
"#,
    )
    .unwrap();
    let path = file.display().to_string();
    let out = iommugen(&["dt", "--format", "json", &path]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(
        translations(master(&v, "/dma@10000000")),
        vec![("/iommu@2b400000".into(), vec![7])]
    );
    let off = master(&v, "/dma@20000000");
    assert!(translations(off).is_empty());
    assert!(off["error"].is_null());
    assert_eq!(off["translation"], "none");
    assert_eq!(off["untranslated"]["reason"], "not-created");
    let human = iommugen(&["dt", &path]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("no device is created"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn human_report_says_why_a_master_is_untranslated() {
    let out = iommugen(&["dt", &dts("rk3399-iommu.dts")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("/isp0@ff910000"), "{text}");
    assert!(
        text.contains("IOMMU /iommu@ff914000 is disabled: runs untranslated"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn bad_arguments_and_missing_dtc_are_clear_errors() {
    let out = iommugen(&["dt", "--rid", "nopath", &dts("juno-mmu401.dts")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NODE_PATH@RID"));
    let out = Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", "/nonexistent")
        .args(["dt", &dts("juno-mmu401.dts")])
        .output()
        .unwrap();
    // cpp runs first (tests/dt_source.rs has dtc missing on its own).
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`cpp` is not installed"));
    let out = iommugen(&["dt", "/nonexistent/board.dtb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/board.dtb"));
}

/// A temporary file holding `bytes`, unique to this test process.
fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("iommugen-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_bad_tree_is_exit_1_with_a_clear_error() {
    // Not a device tree at all.
    let junk = temp_file("junk.dtb", &[b'x'; 64]);
    let out = iommugen(&["dt", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a usable device tree: not a flattened device tree (bad magic)"),
        "{err}"
    );
    // A real blob whose strings block is moved onto its structure block
    // (once read as an empty tree): the overlap is named, in JSON too.
    let blob = std::process::Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-"])
        .arg(dts("juno-mmu401.dts"))
        .output();
    let Ok(blob) = blob else { return };
    let mut blob = blob.stdout;
    let off_struct: [u8; 4] = blob[8..12].try_into().unwrap();
    blob[12..16].copy_from_slice(&off_struct);
    let bad = temp_file("overlap.dtb", &blob);
    let out = iommugen(&["dt", "--format", "json", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "dt::E0300");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("the structure block and the strings block overlap"),
        "{d}"
    );
    assert_eq!(v["masters"], serde_json::json!([]));
    // The specs loaded are listed even when the tree is unreadable.
    assert!(v["specs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "examples/arm-smmu-v3.iommu"));
    // A .dts dtc rejects: dtc's located message, exit 1.
    let src = temp_file("broken.dts", b"/dts-v1/;\n/ {\n  a = <1;\n};\n");
    let renamed = src.with_extension("dts");
    std::fs::rename(&src, &renamed).unwrap();
    let out = iommugen(&["dt", renamed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dtc could not compile") && err.contains(":3"),
        "{err}"
    );
}

#[test]
fn a_bad_spec_is_exit_1_with_a_located_error() {
    let spec = temp_file(
        "bad.iommu",
        b"driver d {\n    compatible \"v,x\";\n    cells 1;\n    id = nosuch;\n}\n",
    );
    let renamed = spec.with_extension("iommu");
    std::fs::rename(&spec, &renamed).unwrap();
    let name = renamed.to_str().unwrap();
    let out = iommugen(&["dt", "--spec", name, &dts("juno-mmu401.dts")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{name}:4:")), "{err}");
    assert!(err.contains("the specs have errors"), "{err}");
    let out = iommugen(&[
        "dt",
        "--format",
        "json",
        "--spec",
        name,
        &dts("juno-mmu401.dts"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["file"], name);
    assert_eq!(v[0]["severity"], "error");
}

#[test]
fn spec_checks_and_cell_counts_are_enforced() {
    // arm-smmu-v3.iommu: `check stream_id < 1 << 20`, `cells 1`. QEMU virt's
    // map <0 &smmu 0 0x10000> sends RID 0x08 to StreamID 0x08.
    let (code, v) = dt_json("virt-smmuv3-errors.dts", &["--rid", "/pcie@10000000@0x08"]);
    assert_eq!(code, 1);
    assert_eq!(
        translations(master(&v, "/ok@a000000")),
        vec![("/iommu@9050000".into(), vec![0x10])]
    );
    let big = master(&v, "/too-big@a001000");
    assert!(
        big["error"]
            .as_str()
            .unwrap()
            .contains("stream_id < 1 << 20"),
        "{big}"
    );
    let bad = iommu(&v, "/iommu@9070000");
    assert_eq!(bad["status"], "failed");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("#iommu-cells = <2>"),
        "{bad}"
    );
    assert!(master(&v, "/behind-bad@a002000")["error"]
        .as_str()
        .unwrap()
        .contains("not initialised"));
    assert_eq!(pci(&v, 8), (Some("/iommu@9050000".into()), Some(8)));
}

#[test]
fn hostile_tree_gives_one_error_per_master_and_no_crash() {
    let (code, v) = dt_json("hostile.dts", &["--rid", "/pcie@8000@0xffffff10"]);
    assert_eq!(code, 1);
    let err = |p: &str| master(&v, p)["error"].as_str().unwrap_or("").to_owned();
    assert!(err("/dangling@4000").contains("phandle 0x99 names no node"));
    assert!(err("/not-iommu@5000").contains("not an IOMMU"));
    assert!(err("/huge-cells@6000").contains("#iommu-cells"));
    assert!(err("/truncated@7000").contains("entry 1"));
    // Any IOMMU error but a deferral: Linux carries on with direct DMA.
    assert_eq!(master(&v, "/dangling@4000")["translation"], "direct");
    assert_eq!(
        master(&v, "/dangling@4000")["untranslated"]["reason"],
        "iommu-error"
    );
    // The SMMU that names itself is an ordinary master of itself.
    assert_eq!(
        translations(master(&v, "/iommu@1000")),
        vec![("/iommu@1000".into(), vec![7])]
    );
    let p = &v["pci"][0];
    assert!(p["error"].as_str().unwrap().contains("2^32"), "{p}");
    assert!(p["iommu"].is_null() && p["id"].is_null());
}

#[test]
fn qemu_virt_machine_tree_maps_rids_one_to_one() {
    // QEMU's own device tree for `virt,iommu=smmuv3` (an oracle we did not
    // write): its host bridge maps every RID to the same StreamID through
    // <0 &smmuv3 0 0x10000>. Fails, never skips, when QEMU is missing or
    // cannot start.
    let dtb = std::env::temp_dir().join(format!("iommugen-virt-{}.dtb", std::process::id()));
    tools::qemu_dump_dtb(&dtb);
    let out = iommugen(&[
        "dt",
        "--format",
        "json",
        "--rid",
        "/pcie@10000000@0x08",
        "--rid",
        "/pcie@10000000@0x0100",
        dtb.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&dtb);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let smmu = v["iommus"][0]["path"].as_str().unwrap().to_owned();
    assert!(smmu.starts_with("/smmuv3@"), "{smmu}");
    assert_eq!(v["iommus"][0]["status"], "initialised");
    assert_eq!(pci(&v, 0x08), (Some(smmu.clone()), Some(0x08)));
    assert_eq!(pci(&v, 0x100), (Some(smmu), Some(0x100)));
}

#[test]
fn tegra194_smmu_is_an_arm_smmu_with_the_node_mask() {
    // arm,smmu.yaml, "nvidia,tegra194-smmu" with "nvidia,smmu-500": one
    // cell, the stream ID; arm_smmu_of_xlate takes the SMR mask from the
    // node's stream-match-mask (0x7f80), so TEGRA194_SID_SDMMC4 (0x17)
    // is kept as 0x7f80 << 16 | 0x17.
    let (code, v) = dt_json("tegra194-smmu.dts", &[]);
    assert_eq!(code, 0);
    let smmu = "/bus@0/iommu@12000000";
    assert_eq!(iommu(&v, smmu)["driver"], "nvidia_smmu_500");
    assert_eq!(iommu(&v, smmu)["status"], "initialised");
    assert_eq!(
        translations(master(&v, "/bus@0/mmc@3460000")),
        vec![(smmu.into(), vec![0x7f80_0017])]
    );
    // The ISO SMMU is disabled in the tree: the display runs untranslated
    // (of_iommu_xlate's -ENODEV).
    let iso = "/bus@0/iommu@10000000";
    assert_eq!(iommu(&v, iso)["status"], "disabled");
    let dc = master(&v, "/bus@0/display-hub@15200000/display@15200000");
    assert_eq!(dc["translation"], "direct");
    assert_eq!(dc["untranslated"]["reason"], "iommu-disabled");
    assert!(translations(dc).is_empty());
}

#[test]
fn t6000_darts_one_stream_cell_per_dart() {
    // apple,dart.yaml: one cell, the stream index on that DART; a master
    // behind several DARTs gets one of_xlate per entry, each DART keeping
    // its own stream (apple_dart_of_xlate's per-DART stream maps).
    let (code, v) = dt_json("t6000-dart.dts", &[]);
    assert_eq!(code, 0);
    for i in v["iommus"].as_array().unwrap() {
        assert_eq!(i["driver"], "apple_t6000_dart");
    }
    assert_eq!(
        translations(master(&v, "/soc/dma-controller@39b400000")),
        vec![
            ("/soc/iommu@39b004000".into(), vec![2]),
            ("/soc/iommu@39b008000".into(), vec![2]),
        ]
    );
    assert_eq!(
        translations(master(&v, "/soc/usb@702280000")),
        vec![
            ("/soc/iommu@702f00000".into(), vec![0]),
            ("/soc/iommu@702f80000".into(), vec![1]),
        ]
    );
    assert_eq!(iommu(&v, "/soc/iommu@3860e8000")["status"], "disabled");
}

#[test]
fn mt8195_vdo_m4u_and_infra_iommu() {
    // mediatek,iommu.yaml: the cell is MTK_M4U_ID(larb, port), kept whole:
    // M4U_PORT_L0_DISP_OVL0_RDMA0 → 2, M4U_PORT_L0_DISP_RDMA0 → 0. Both
    // are on larb 0, so in IOVA region 0 (mt8195_larb_region_msk), one
    // group and one domain.
    let (code, v) = dt_json("mt8195-iommu.dts", &[]);
    assert_eq!(code, 0);
    let vdo = "/soc/iommu@1c01f000";
    assert_eq!(iommu(&v, vdo)["driver"], "mtk_mt8195_mm");
    assert_eq!(
        iommu(&v, "/soc/infra-iommu@10315000")["driver"],
        "mtk_mt8195_infra"
    );
    let (ovl, rdma) = (
        master(&v, "/soc/ovl@1c000000"),
        master(&v, "/soc/rdma@1c002000"),
    );
    assert_eq!(ovl["group"], "region0");
    assert_eq!(rdma["group"], "region0");
    assert_eq!(ovl["domain"], rdma["domain"]);
    // The VPP M4U shares the VDO's page table and groups (SHARE_PGTABLE,
    // one hw_list): its region-0 master is in the same domain.
    let vpp = master(&v, "/soc/vpp-dma@14001000");
    assert_eq!(vpp["group"], "region0");
    assert_eq!(vpp["domain"], ovl["domain"]);
    assert_eq!(
        translations(master(&v, "/soc/ovl@1c000000")),
        vec![(vdo.into(), vec![2])]
    );
    assert_eq!(
        translations(master(&v, "/soc/rdma@1c002000")),
        vec![(vdo.into(), vec![0])]
    );
}

/// mt8192's IOVA regions (Linux's mt8192_larb_region_msk, one IOMMU group
/// each, mtk_iommu_device_group): a master is in the first region holding
/// every port it uses; one that fits none gets no group, so no IOMMU, and
/// runs untranslated (Linux logs "Can NOT find the region").
#[test]
fn mt8192_masters_land_in_linux_iova_regions() {
    let (code, v) = dt_json("mt8192-regions.dts", &[]);
    assert_eq!(code, 1, "the two masters in no region are errors");
    let group = |p: &str| master(&v, p)["group"].as_str().map(str::to_owned);
    assert_eq!(group("/soc/ovl@14005000").as_deref(), Some("region0"));
    assert_eq!(group("/soc/vdec@16000000").as_deref(), Some("region1"));
    assert_eq!(group("/soc/vdec@16010000").as_deref(), Some("region1"));
    assert_eq!(group("/soc/cam@1a000000").as_deref(), Some("region2"));
    assert_eq!(group("/soc/ccu@1a101000").as_deref(), Some("ccu0"));
    // One domain per region: the two decoders share theirs, every region
    // has its own.
    let domain = |p: &str| master(&v, p)["domain"].as_u64().unwrap();
    assert_eq!(domain("/soc/vdec@16000000"), domain("/soc/vdec@16010000"));
    let mut all = vec![
        domain("/soc/ovl@14005000"),
        domain("/soc/vdec@16000000"),
        domain("/soc/cam@1a000000"),
        domain("/soc/ccu@1a101000"),
    ];
    all.dedup();
    assert_eq!(all.len(), 4);
    // Each region's window (mt8192_multi_dom, less the 8 MiB gap; region
    // 0 without page 0), as the master's IOVA range.
    let iova = |p: &str| {
        let w = &master(&v, p)["iova"];
        (w["first"].as_u64().unwrap(), w["last"].as_u64().unwrap())
    };
    assert_eq!(iova("/soc/ovl@14005000"), (0x1000, 0xff7f_ffff));
    assert_eq!(iova("/soc/vdec@16000000"), (0x1_0000_0000, 0x1_ff7f_ffff));
    assert_eq!(iova("/soc/cam@1a000000"), (0x2_0000_0000, 0x2_ff7f_ffff));
    assert_eq!(iova("/soc/ccu@1a101000"), (0x2_4000_0000, 0x2_43ff_ffff));
    assert!(master(&v, "/soc/lonely@1a300000")["iova"].is_null());
    for p in ["/soc/mixed@1a200000", "/soc/lonely@1a300000"] {
        let m = master(&v, p);
        assert_eq!(m["translation"], "direct", "{p}");
        assert_eq!(m["untranslated"]["reason"], "no-group", "{p}");
        assert!(m["group"].is_null(), "{p}");
        assert!(
            m["error"]
                .as_str()
                .unwrap()
                .contains("none of driver `mtk_mt8192_m4u`'s groups"),
            "{p}"
        );
    }
    // The human report names the group.
    let path = dts("mt8192-regions.dts");
    let out = iommugen(&["dt", &path]);
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(human.contains("group region1"), "{human}");
}

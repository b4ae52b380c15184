//! `iommugen dt` on the Renesas IPMMU-VMSA fragment of a real R-Car Gen3
//! tree (tests/dts/r8a77951-ipmmu.dts, from Linux's r8a77951.dtsi). The
//! expected IDs are the uTLB cells, worked out from
//! renesas,ipmmu-vmsa.yaml; the domain sharing follows Linux's
//! ipmmu_find_group (one group per IPMMU instance); which masters attach
//! follows ipmmu-vmsa.c's ipmmu_device_is_allowed (devices_allowlist by
//! dev_name, PCI always, soc_denylist).
//! Main and cache IPMMUs
//! (`renesas,ipmmu-main`) follow Linux's ipmmu_probe: a cache IPMMU waits
//! for a main IPMMU of the driver (ipmmu_find_root), and only cache IPMMUs
//! are registered as IOMMUs.

use std::path::Path;

use serde_json::Value;

mod tools;

mod cli;
use cli::report::{find, translations};
use cli::{iommugen, scratch, write};
fn json_with(path: &str, extra: &[&str]) -> (i32, Value) {
    tools::require("dtc", "device-tree-compiler");
    cli::report::dt_json(path, extra)
}

fn json(path: &str) -> (i32, Value) {
    json_with(path, &[])
}

#[test]
fn rcar_h3_sdhi_utlbs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let (code, v) = json(&path.display().to_string());
    assert_eq!(code, 0, "{v:#}");
    // Every IPMMU says "renesas,ipmmu-r8a7795": the Gen3 driver.
    for p in [
        "/soc/iommu@e67b0000",
        "/soc/iommu@e6740000",
        "/soc/iommu@e6570000",
        "/soc/iommu@e7740000",
    ] {
        let i = find(&v, "iommus", p);
        assert_eq!(i["status"], "initialised");
        assert_eq!(i["driver"], "ipmmu_rcar_gen3");
    }
    // ipmmu_ds1 has renesas,ipmmu-main = <&ipmmu_mm 1>: a cache of ipmmu_mm.
    let ds1 = find(&v, "iommus", "/soc/iommu@e7740000");
    assert_eq!(ds1["main"], "/soc/iommu@e67b0000");
    let mm = find(&v, "iommus", "/soc/iommu@e67b0000");
    assert!(mm.get("main").is_none(), "{mm:#}");
    assert_eq!(
        mm["caches"],
        serde_json::json!([
            "/soc/iommu@e6740000",
            "/soc/iommu@e6570000",
            "/soc/iommu@e7740000"
        ])
    );
    // sdhi0..3: <&ipmmu_ds1 32> .. <&ipmmu_ds1 35>, each uTLB its ID; their
    // Linux names ("ee100000.mmc" ..) are on the allow-list.
    let ds1 = "/soc/iommu@e7740000";
    let mut domains = vec![];
    for (i, unit) in ["ee100000", "ee120000", "ee140000", "ee160000"]
        .iter()
        .enumerate()
    {
        let m = find(&v, "masters", &format!("/soc/mmc@{unit}"));
        assert!(m["error"].is_null(), "{m:#}");
        assert_eq!(m["translation"], "iommu");
        assert_eq!(translations(m), vec![(ds1.to_owned(), vec![32 + i as u64])]);
        domains.push(m["domain"].clone());
    }
    // One IPMMU, one domain for its four masters.
    assert!(domains.iter().all(|d| *d == domains[0] && d.is_u64()));
    // H3's deny-list entry is for ES2.x only, which the tree cannot say.
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["code"], "dt::W0305");
    assert_eq!(diags[0]["severity"], "warning");
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("renesas,r8a7795 revision ES2.*"));
    assert_eq!(diags[0]["source"]["line"], 24, "the root's compatible");
}

/// SYS-DMAC0 (dma-controller@e6700000, Linux's "e6700000.dma-controller")
/// names ipmmu_ds0 but is not on devices_allowlist: ipmmu_of_xlate gives
/// -ENODEV and Linux runs it untranslated, without an error.
#[test]
fn rcar_h3_dmac_is_refused_untranslated() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let (code, v) = json(&path.display().to_string());
    assert_eq!(code, 0, "{v:#}");
    let m = find(&v, "masters", "/soc/dma-controller@e6700000");
    assert!(m["error"].is_null(), "{m:#}");
    assert_eq!(m["translation"], "direct");
    assert!(translations(m).is_empty());
    assert!(m["domain"].is_null());
    assert_eq!(m["untranslated"]["reason"], "master-refused");
    let why = m["untranslated"]["message"].as_str().unwrap();
    assert!(why.contains("\"e6700000.dma-controller\""), "{why}");
    assert!(why.contains("/soc/iommu@e6740000"), "{why}");
}

/// PCIe channel 0's iommu-map (<0 &ipmmu_hc 0 1>, iommu-map-mask <0>)
/// sends every requester to uTLB 0 of ipmmu_hc; PCI functions are always
/// allowed.
#[test]
fn rcar_h3_pci_function_is_allowed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let (code, v) = json_with(
        &path.display().to_string(),
        &["--rid", "/soc/pcie@fe000000@0x100"],
    );
    assert_eq!(code, 0, "{v:#}");
    let rid = &v["pci"][0];
    assert_eq!(rid["iommu"], "/soc/iommu@e6570000", "{rid:#}");
    assert_eq!(rid["id"], 0);
    assert_eq!(rid["translation"], "iommu");
    assert_eq!(rid["ids"], serde_json::json!([0]));
}

/// A uTLB past the Gen3 count (48) is refused by the generation's check;
/// the Gen4 driver, with 64 uTLBs, takes the same cell. The masters are
/// SDHI controllers, named as Linux's allow-list expects.
#[test]
fn utlb_past_the_generation_is_refused() {
    // Gen3 and Gen4 IPMMUs are cache IPMMUs of a main one (ipmmu_mm),
    // as on every such SoC.
    let dts = r#"/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	mm3: iommu@500 {
		compatible = "renesas,ipmmu-r8a77961";
		reg = <0x500 0x100>;
		#iommu-cells = <1>;
	};
	mm4: iommu@600 {
		compatible = "renesas,ipmmu-r8a779f0", "renesas,rcar-gen4-ipmmu-vmsa";
		reg = <0x600 0x100>;
		#iommu-cells = <1>;
	};
	gen3: iommu@1000 {
		compatible = "renesas,ipmmu-r8a77961";
		reg = <0x1000 0x1000>;
		renesas,ipmmu-main = <&mm3 0>;
		#iommu-cells = <1>;
	};
	gen4: iommu@2000 {
		compatible = "renesas,ipmmu-r8a779f0", "renesas,rcar-gen4-ipmmu-vmsa";
		reg = <0x2000 0x1000>;
		renesas,ipmmu-main = <&mm4>;
		#iommu-cells = <1>;
	};
	mmc@ee100000 {
		reg = <0xee100000 0x2000>;
		iommus = <&gen3 48>;
	};
	mmc@ee120000 {
		reg = <0xee120000 0x2000>;
		iommus = <&gen4 48>;
	};
};
"#;
    let dir = scratch("dt_ipmmu", "utlb_past");
    let path = write(&dir, "board.dts", dts);
    let (code, v) = json(&path);
    assert_ne!(code, 0);
    assert_eq!(
        find(&v, "iommus", "/iommu@2000")["driver"],
        "ipmmu_rcar_gen4"
    );
    let refused = find(&v, "masters", "/mmc@ee100000");
    let error = refused["error"].to_string();
    assert!(error.contains("utlb < 48"), "{refused:#}");
    let taken = find(&v, "masters", "/mmc@ee120000");
    assert!(taken["error"].is_null(), "{taken:#}");
    assert_eq!(
        translations(taken),
        vec![("/iommu@2000".to_owned(), vec![48])]
    );
}

/// The deny list: on an M3-W (root compatible "renesas,r8a7796", on
/// soc_denylist for every revision) not even an allow-listed SDHI or a
/// PCI function attaches; on M3-W+ ("renesas,r8a77961") they do. A
/// master the allow-list does not name is refused on both.
#[test]
fn denied_soc_refuses_every_master() {
    let dts = |machine: &str| {
        format!(
            r#"/dts-v1/;
/ {{
	compatible = "{machine}";
	#address-cells = <1>;
	#size-cells = <1>;
	ipmmu_mm: iommu@e67b0000 {{
		compatible = "renesas,ipmmu-r8a7796";
		reg = <0xe67b0000 0x1000>;
		#iommu-cells = <1>;
	}};
	ipmmu: iommu@e6740000 {{
		compatible = "renesas,ipmmu-r8a7796";
		reg = <0xe6740000 0x1000>;
		renesas,ipmmu-main = <&ipmmu_mm 0>;
		#iommu-cells = <1>;
	}};
	mmc@ee100000 {{
		reg = <0xee100000 0x2000>;
		iommus = <&ipmmu 32>;
	}};
	serial@e6e88000 {{
		reg = <0xe6e88000 0x40>;
		iommus = <&ipmmu 1>;
	}};
	pcie@fe000000 {{
		reg = <0xfe000000 0x80000>;
		iommu-map = <0 &ipmmu 0 1>;
		iommu-map-mask = <0>;
	}};
}};
"#
        )
    };
    let dir = scratch("dt_ipmmu", "denied_soc");
    for (machine, denied) in [("renesas,r8a7796", true), ("renesas,r8a77961", false)] {
        let path = write(&dir, &format!("{machine}.dts"), dts(machine));
        let (code, v) = json_with(&path, &["--rid", "/pcie@fe000000@0x0"]);
        assert_eq!(code, 0, "{v:#}");
        let mmc = find(&v, "masters", "/mmc@ee100000");
        let pci = &v["pci"][0];
        if denied {
            assert_eq!(mmc["untranslated"]["reason"], "master-refused", "{mmc:#}");
            let why = mmc["untranslated"]["message"].as_str().unwrap();
            assert!(why.contains("no master on renesas,r8a7796"), "{why}");
            assert_eq!(pci["untranslated"]["reason"], "master-refused", "{pci:#}");
        } else {
            assert_eq!(mmc["translation"], "iommu", "{mmc:#}");
            assert_eq!(
                translations(mmc),
                vec![("/iommu@e6740000".to_owned(), vec![32])]
            );
            assert_eq!(pci["translation"], "iommu", "{pci:#}");
        }
        let uart = find(&v, "masters", "/serial@e6e88000");
        assert_eq!(uart["untranslated"]["reason"], "master-refused", "{uart:#}");
        // A whole-SoC entry is decided from the tree: no W0305.
        assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(0), "{v:#}");
    }
}

/// The R-Car H3 tree with its main IPMMU removed: ipmmu_ds1 still says
/// `renesas,ipmmu-main`, so Linux's ipmmu_probe defers it for good
/// (ipmmu_find_root finds no main IPMMU) and the SDHI controllers wait for
/// it. The failure is located at the property.
#[test]
fn a_cache_ipmmu_without_a_main_ipmmu_never_comes_up() {
    let real = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts"),
    )
    .unwrap();
    let start = real.find("\t\tipmmu_mm: iommu@e67b0000 {").unwrap();
    let end = start + real[start..].find("\t\t};\n").unwrap() + "\t\t};\n".len();
    // The phandle now names nothing the tree has: dtc needs a node for
    // `&ipmmu_mm`, so it names the SoC node instead, which no IPMMU spec
    // claims.
    let planted = format!("{}{}", &real[..start], &real[end..])
        .replace("<&ipmmu_mm ", "<&soc ")
        .replace("\tsoc {", "\tsoc: soc {");
    let dir = scratch("dt_ipmmu", "no_main");
    let path = write(&dir, "board.dts", &planted);
    let (code, v) = json(&path);
    assert_ne!(code, 0, "{v:#}");
    let ds1 = find(&v, "iommus", "/soc/iommu@e7740000");
    assert_eq!(ds1["status"], "failed", "{ds1:#}");
    assert!(ds1["main"].is_null(), "{ds1:#}");
    let why = ds1["error"].as_str().unwrap();
    assert!(why.contains("no main instance"), "{why}");
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "dt::E0301")
        .unwrap_or_else(|| panic!("{v:#}"));
    // Located at the property's name in the .dts.
    let label = &d["labels"][0];
    assert_eq!(label["label"], "this property", "{d:#}");
    let line = label["line"].as_u64().unwrap() as usize;
    let column = label["column"].as_u64().unwrap() as usize;
    let text = planted.lines().nth(line - 1).unwrap();
    assert!(
        text[column - 1..].starts_with("renesas,ipmmu-main"),
        "{text}"
    );
    assert_eq!(label["length"], "renesas,ipmmu-main".len());
    for unit in ["ee100000", "ee120000", "ee140000", "ee160000"] {
        let m = find(&v, "masters", &format!("/soc/mmc@{unit}"));
        assert_eq!(m["translation"], "deferred", "{m:#}");
    }
}

/// A master naming the main IPMMU itself: Linux registers only cache
/// IPMMUs, so the main one is no IOMMU for it.
#[test]
fn the_main_ipmmu_is_not_a_masters_iommu() {
    let real = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts"),
    )
    .unwrap();
    let planted = real.replacen("<&ipmmu_ds1 32>", "<&ipmmu_mm 32>", 1);
    let dir = scratch("dt_ipmmu", "main_master");
    let path = write(&dir, "board.dts", &planted);
    let (_, v) = json(&path);
    let m = find(&v, "masters", "/soc/mmc@ee100000");
    let error = m["error"].as_str().unwrap_or_else(|| panic!("{m:#}"));
    assert!(error.contains("a main instance"), "{error}");
    assert_ne!(m["translation"], "iommu", "{m:#}");
    let other = find(&v, "masters", "/soc/mmc@ee120000");
    assert_eq!(
        translations(other),
        vec![("/soc/iommu@e7740000".to_owned(), vec![33])]
    );
}

/// `renesas,ipmmu-main` naming the cache IPMMU itself rather than
/// ipmmu_mm: Linux does not read the phandle (ipmmu_find_root takes the
/// probed main IPMMU), so the SDHI controllers still translate, but
/// `--lint` flags the tree (dt::W0320).
#[test]
fn a_main_phandle_naming_another_node_is_a_lint() {
    let real = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts"),
    )
    .unwrap();
    let planted = real.replace("<&ipmmu_mm 1>", "<&ipmmu_ds1 1>");
    let dir = scratch("dt_ipmmu", "main_lint");
    let path = write(&dir, "board.dts", &planted);
    tools::require("dtc", "device-tree-compiler");
    let out = iommugen(&["dt", "--lint", "--format", "json", &path]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ds1 = find(&v, "iommus", "/soc/iommu@e7740000");
    assert_eq!(ds1["status"], "initialised");
    assert_eq!(ds1["main"], "/soc/iommu@e67b0000");
    let m = find(&v, "masters", "/soc/mmc@ee100000");
    assert_eq!(m["translation"], "iommu", "{m:#}");
    let lints: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "dt::W0320")
        .collect();
    assert_eq!(lints.len(), 1, "{v:#}");
    let message = lints[0]["message"].as_str().unwrap();
    assert!(
        message.contains("names /soc/iommu@e7740000")
            && message.contains("Linux uses is /soc/iommu@e67b0000"),
        "{message}"
    );
    // The real tree has no W0320. Its findings: W0305 (an H3 ES2.x
    // refuses every master, a revision the tree does not say) and W0313
    // (the PCIe iommu-map-mask = <0> folds every RID onto one uTLB, as
    // R-Car boards intend).
    let real_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let out = iommugen(&[
        "dt",
        "--lint",
        "--format",
        "json",
        &real_path.display().to_string(),
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, ["dt::W0305", "dt::W0313"], "{v:#}");
}

/// `--soc-revision`: Linux matches soc_denylist's `ES2.*` against the
/// revision the chip reports (soc_device_match, glob_match). On an H3
/// ES2.0 every master is refused, PCI included, for that reason; on
/// ES1.1 the allow-list decides as without the entry. Either way the
/// revision is known, so no W0305, and the report says which it used.
#[test]
fn rcar_h3_soc_revision_decides_the_deny_entry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let path = path.display().to_string();
    let rid = ["--rid", "/soc/pcie@fe000000@0x100"];
    let (code, v) = json_with(&path, &[&rid[..], &["--soc-revision", "ES2.0"]].concat());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["soc_revision"], "ES2.0");
    for unit in ["ee100000", "ee120000", "ee140000", "ee160000"] {
        let m = find(&v, "masters", &format!("/soc/mmc@{unit}"));
        assert_eq!(m["translation"], "direct", "{m:#}");
        assert_eq!(m["untranslated"]["reason"], "master-refused", "{m:#}");
        let why = m["untranslated"]["message"].as_str().unwrap();
        assert!(why.contains("renesas,r8a7795 revision ES2.*"), "{why}");
    }
    let pci = &v["pci"][0];
    assert_eq!(pci["untranslated"]["reason"], "master-refused", "{pci:#}");
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(0), "{v:#}");

    let (code, v) = json_with(&path, &[&rid[..], &["--soc-revision", "ES1.1"]].concat());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["soc_revision"], "ES1.1");
    let sdhi = find(&v, "masters", "/soc/mmc@ee100000");
    assert_eq!(sdhi["translation"], "iommu", "{sdhi:#}");
    let dmac = find(&v, "masters", "/soc/dma-controller@e6700000");
    assert_eq!(dmac["untranslated"]["reason"], "master-refused");
    assert!(dmac["untranslated"]["message"]
        .as_str()
        .unwrap()
        .contains("allow-list"));
    assert_eq!(v["pci"][0]["translation"], "iommu");
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(0), "{v:#}");

    // Without the flag: unknown revision, W0305 (rcar_h3_sdhi_utlbs).
    let (_, v) = json(&path);
    assert!(v["soc_revision"].is_null(), "{v:#}");
    assert_eq!(v["diagnostics"][0]["code"], "dt::W0305");

    // The human report names the revision it used.
    tools::require("dtc", "device-tree-compiler");
    let out = iommugen(&["dt", "--soc-revision", "ES2.0", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SoC revision: ES2.0"), "{text}");
}

/// Contexts: an R-Car M3-W+ (Gen3: 8 contexts, context 0 reserved, so 7
/// domains) with eight cache IPMMUs, each with one master Linux lets
/// attach: four SDHI controllers and four PCIe host bridges' RIDs. Linux
/// puts each cache IPMMU's masters in one group (ipmmu_find_group), so
/// eight domains want a context of ipmmu_mm; the eighth attach finds none
/// (ipmmu_domain_allocate_context: -EBUSY) and that function keeps direct
/// DMA. `--lint` names the main IPMMU, its count and the need.
#[test]
fn more_domains_than_contexts_leaves_the_last_untranslated() {
    let mut dts = String::from(
        "/dts-v1/;\n/ {\n\tcompatible = \"renesas,r8a77961\";\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\tmm: iommu@e67b0000 {\n\t\tcompatible = \"renesas,ipmmu-r8a77961\";\n\t\treg = <0xe67b0000 0x1000>;\n\t\t#iommu-cells = <1>;\n\t};\n",
    );
    for i in 0..8u32 {
        dts += &format!(
            "\tc{i}: iommu@{:x} {{\n\t\tcompatible = \"renesas,ipmmu-r8a77961\";\n\t\treg = <{:#x} 0x1000>;\n\t\trenesas,ipmmu-main = <&mm {i}>;\n\t\t#iommu-cells = <1>;\n\t}};\n",
            0xe680_0000u32 + i * 0x1_0000,
            0xe680_0000u32 + i * 0x1_0000
        );
    }
    for (i, unit) in ["ee100000", "ee120000", "ee140000", "ee160000"]
        .iter()
        .enumerate()
    {
        dts += &format!(
            "\tmmc@{unit} {{\n\t\treg = <0x{unit} 0x2000>;\n\t\tiommus = <&c{i} {}>;\n\t}};\n",
            32 + i
        );
    }
    let mut rids = Vec::new();
    for i in 4..8u32 {
        let base = 0xfe00_0000u32 + (i - 4) * 0x10_0000;
        dts += &format!(
            "\tpcie@{base:x} {{\n\t\treg = <{base:#x} 0x80000>;\n\t\tiommu-map = <0 &c{i} 0 1>;\n\t\tiommu-map-mask = <0>;\n\t}};\n"
        );
        rids.push(format!("/pcie@{base:x}@0x0"));
    }
    dts += "};\n";
    let dir = scratch("dt_ipmmu", "contexts");
    let path = write(&dir, "board.dts", &dts);
    let mut args = vec!["--lint"];
    for r in &rids {
        args.extend(["--rid", r.as_str()]);
    }
    let (code, v) = json_with(&path, &args);
    // Running out of contexts is an outcome, not an error: exit 0.
    assert_eq!(code, 0, "{v:#}");
    for unit in ["ee100000", "ee120000", "ee140000", "ee160000"] {
        let m = find(&v, "masters", &format!("/mmc@{unit}"));
        assert_eq!(m["translation"], "iommu", "{m:#}");
    }
    let pci = v["pci"].as_array().unwrap();
    for p in &pci[..3] {
        assert_eq!(p["translation"], "iommu", "{p:#}");
    }
    let last = &pci[3];
    assert_eq!(last["translation"], "direct", "{last:#}");
    assert_eq!(last["untranslated"]["reason"], "no-context", "{last:#}");
    assert!(last["error"].is_null(), "{last:#}");
    let why = last["untranslated"]["message"].as_str().unwrap();
    assert!(
        why.contains("no translation context left on IOMMU /iommu@e67b0000"),
        "{why}"
    );
    assert!(why.contains("8 contexts (1 reserved)"), "{why}");
    assert_eq!(
        v["contexts"],
        serde_json::json!([{ "iommu": "/iommu@e67b0000", "total": 8, "reserved": 1,
                             "held": 7, "needed": 8 }])
    );
    let w: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "dt::W0321")
        .collect();
    assert_eq!(w.len(), 1, "{v:#}");
    let message = w[0]["message"].as_str().unwrap();
    assert!(
        message.contains("/iommu@e67b0000")
            && message.contains("needs 8 domains")
            && message.contains("8 translation contexts (1 reserved)"),
        "{message}"
    );
    // The human report says the same per main IPMMU.
    let out = iommugen(&[&["dt"][..], &args, &[path.as_str()]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "/iommu@e67b0000: 7 of 8 translation contexts (1 reserved) held, 8 domains needed"
        ),
        "{text}"
    );
    // The real H3 fragment needs two of ipmmu_mm's seven (ipmmu_ds1's SDHI
    // and, with a RID, ipmmu_hc's PCIe): no warning.
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let (_, v) = json_with(
        &real.display().to_string(),
        &["--lint", "--rid", "/soc/pcie@fe000000@0x100"],
    );
    assert_eq!(v["contexts"][0]["needed"], 2, "{v:#}");
    assert_eq!(v["contexts"][0]["held"], 2, "{v:#}");
}

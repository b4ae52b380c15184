//! `iommugen dt` on the Renesas IPMMU-VMSA fragment of a real R-Car Gen3
//! tree (tests/dts/r8a77951-ipmmu.dts, from Linux's r8a77951.dtsi). The
//! expected IDs are the uTLB cells, worked out from
//! renesas,ipmmu-vmsa.yaml; the domain sharing follows Linux's
//! ipmmu_find_group (one group per IPMMU instance).

use std::path::Path;

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, write};

fn json(path: &str) -> (i32, Value) {
    tools::require("dtc", "device-tree-compiler");
    let out = iommugen(&["dt", "--format", "json", path]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", cli::stderr(&out)));
    (out.status.code().unwrap_or(-1), v)
}

fn find<'a>(v: &'a Value, list: &str, path: &str) -> &'a Value {
    v[list]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["path"] == path))
        .unwrap_or_else(|| panic!("no {path} in {list}: {v:#}"))
}

/// `[(iommu, [ids])]` of a master.
fn translations(m: &Value) -> Vec<(String, Vec<u64>)> {
    m["translations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    let ids = t["ids"]
                        .as_array()
                        .map_or(vec![], |ids| ids.iter().filter_map(Value::as_u64).collect());
                    (t["iommu"].as_str().unwrap_or("").to_owned(), ids)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rcar_h3_sdhi_utlbs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/r8a77951-ipmmu.dts");
    let (code, v) = json(&path.display().to_string());
    assert_eq!(code, 0, "{v:#}");
    // Both IPMMUs say "renesas,ipmmu-r8a7795": the Gen3 driver.
    for p in ["/soc/iommu@e67b0000", "/soc/iommu@e7740000"] {
        let i = find(&v, "iommus", p);
        assert_eq!(i["status"], "initialised");
        assert_eq!(i["driver"], "ipmmu_rcar_gen3");
    }
    // sdhi0..3: <&ipmmu_ds1 32> .. <&ipmmu_ds1 35>, each uTLB its ID.
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
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(0));
}

/// A uTLB past the Gen3 count (48) is refused by the generation's check;
/// the Gen4 driver, with 64 uTLBs, takes the same cell.
#[test]
fn utlb_past_the_generation_is_refused() {
    let dts = r#"/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	gen3: iommu@1000 {
		compatible = "renesas,ipmmu-r8a77961";
		reg = <0x1000 0x1000>;
		#iommu-cells = <1>;
	};
	gen4: iommu@2000 {
		compatible = "renesas,ipmmu-r8a779f0", "renesas,rcar-gen4-ipmmu-vmsa";
		reg = <0x2000 0x1000>;
		#iommu-cells = <1>;
	};
	dma@3000 {
		reg = <0x3000 0x100>;
		iommus = <&gen3 48>;
	};
	dma@4000 {
		reg = <0x4000 0x100>;
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
    let refused = find(&v, "masters", "/dma@3000");
    let error = refused["error"].to_string();
    assert!(error.contains("utlb < 48"), "{refused:#}");
    let taken = find(&v, "masters", "/dma@4000");
    assert!(taken["error"].is_null(), "{taken:#}");
    assert_eq!(
        translations(taken),
        vec![("/iommu@2000".to_owned(), vec![48])]
    );
}

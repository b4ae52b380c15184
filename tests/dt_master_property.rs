//! `master property` and `allow masters` end to end: a spec written for
//! the test, a device tree compiled by dtc, and `iommugen dt`'s report.
//! The device names the allow-list matches are the ones Linux's
//! `of_device_make_bus_id` gives (drivers/of/platform.c): the first `reg`
//! address translated through the buses' `ranges`, a dot, the node name.

use serde_json::Value;

mod tools;

mod cli;
use cli::{iommugen, scratch, write};

const SPEC: &str = r#"
/// A made-up IOMMU whose ID carries an OS number from the master's node.
driver acme_iommu {
    compatible "acme,iommu";
    cells 1;
    field sid: u16 = cell[0][15:0];
    field os: u4 = master property "acme,os-id"[3:0] else 0;
    ignore cell[0][31:16], master property "acme,os-id"[31:8];
    id = os << 16 | sid;
    pci iommu-map;
    page-table arm-lpae-s1 {
        granule 4K;
        ias 32;
        oas 40;
        pool 8;
    }
    init crate::acme::probe;
    allow masters "10100000.dma", "10200000.dma", "10300000.dma", "10400000.dma";
}
"#;

/// The bus maps its children 0x10000000 up: `dma@100000` is Linux's
/// "10100000.dma".
const DTS: &str = r#"/dts-v1/;
/ {
	compatible = "acme,board";
	#address-cells = <1>;
	#size-cells = <1>;
	smmu: iommu@1000 {
		compatible = "acme,iommu";
		reg = <0x1000 0x1000>;
		#iommu-cells = <1>;
		acme,os-id = <7>;
	};
	bus@10000000 {
		compatible = "simple-bus";
		#address-cells = <1>;
		#size-cells = <1>;
		ranges = <0 0x10000000 0x1000000>;
		dma@100000 {
			reg = <0x100000 0x1000>;
			iommus = <&smmu 0x21>;
			acme,os-id = <3>;
		};
		dma@200000 {
			reg = <0x200000 0x1000>;
			iommus = <&smmu 0x22>;
			acme,os-id = <0x105>;
		};
		dma@300000 {
			reg = <0x300000 0x1000>;
			iommus = <&smmu 0x23>;
		};
		dma@400000 {
			reg = <0x400000 0x1000>;
			iommus = <&smmu 0x24>;
			acme,os-id = <0x13>;
		};
		gpu@500000 {
			reg = <0x500000 0x1000>;
			iommus = <&smmu 0x25>;
			acme,os-id = <1>;
		};
	};
	pcie@2000 {
		reg = <0x2000 0x1000>;
		iommu-map = <0 &smmu 0x100 0x100>;
		acme,os-id = <2>;
	};
};
"#;

/// The report for [`DTS`] with [`SPEC`]; `test` names the scratch folder.
fn report(test: &str) -> Value {
    tools::require("dtc", "device-tree-compiler");
    let dir = scratch("dt_master_property", test);
    let spec = write(&dir, "acme.iommu", SPEC);
    let dts = write(&dir, "board.dts", DTS);
    let out = iommugen(&[
        "dt",
        "--format",
        "json",
        "--spec",
        &spec,
        "--rid",
        "/pcie@2000@0x8",
        &dts,
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", cli::stderr(&out)));
    let _ = std::fs::remove_dir_all(&dir);
    v
}

fn master<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["masters"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["path"] == path))
        .unwrap_or_else(|| panic!("no {path}: {v:#}"))
}

fn ids(m: &Value) -> Vec<u64> {
    m["translations"][0]["ids"]
        .as_array()
        .map_or(vec![], |a| a.iter().filter_map(Value::as_u64).collect())
}

#[test]
fn master_property_comes_from_the_masters_node() {
    let v = report("master_property");
    // os-id 3 (not the IOMMU's 7): 3 << 16 | 0x21.
    let a = master(&v, "/bus@10000000/dma@100000");
    assert_eq!(a["translation"], "iommu", "{a:#}");
    assert_eq!(ids(a), [0x3_0021]);
    // 0x105: bit 8 is dropped by `ignore`, so os 5.
    assert_eq!(ids(master(&v, "/bus@10000000/dma@200000")), [0x5_0022]);
    // No property: `else 0`.
    assert_eq!(ids(master(&v, "/bus@10000000/dma@300000")), [0x23]);
    // 0x13: bit 4 is neither read nor dropped, so of_xlate refuses it.
    let d = master(&v, "/bus@10000000/dma@400000");
    assert_eq!(d["untranslated"]["reason"], "iommu-error", "{d:#}");
    let error = d["error"].as_str().unwrap();
    assert!(
        error.contains("master property \"acme,os-id\" has bits 0x10 set"),
        "{error}"
    );
    // A PCI function has no node: the host bridge's os-id is not its own.
    let rid = &v["pci"][0];
    assert_eq!(rid["translation"], "iommu", "{rid:#}");
    assert_eq!(rid["ids"], serde_json::json!([0x108]));
}

#[test]
fn allow_list_matches_linux_device_names() {
    let v = report("allow_list");
    // "10500000.gpu" is not on the list: refused before its cells are read.
    let gpu = master(&v, "/bus@10000000/gpu@500000");
    assert_eq!(gpu["translation"], "direct", "{gpu:#}");
    assert!(gpu["error"].is_null());
    assert_eq!(gpu["untranslated"]["reason"], "master-refused");
    let why = gpu["untranslated"]["message"].as_str().unwrap();
    assert!(why.contains("\"10500000.gpu\""), "{why}");
    // The listed ones are translated (dma@100000 above); only dma@400000's
    // refusal is an error.
    let errors: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["code"], "dt::E0303");
}

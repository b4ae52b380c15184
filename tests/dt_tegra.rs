//! `iommugen dt` on the Tegra124 fragment of a real tree
//! (tests/dts/tegra124-smmu.dts, from Linux's tegra124.dtsi): the memory
//! controller is the IOMMU and every `iommus` master is claimed by it with
//! its TEGRA_SWGROUP_* number as its one ID (tegra_smmu_of_xlate stores
//! the cell whole); the nodes without `iommus` stay untranslated. Current
//! Linux gives every master an identity default domain
//! (tegra_smmu_def_domain_type), so each is reported untranslated, reason
//! identity-default, in its IOMMU group: DC, DCB and VIC in the SoC's
//! "drm" group, every other master in one of its own. A Tegra30
//! controller is taken by its own driver, and a swgroup no SoC table names
//! is stored, not refused, as in Linux.

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

const MC: &str = "/memory-controller@70019000";

#[test]
fn tegra124_masters_carry_their_swgroups() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dts/tegra124-smmu.dts");
    let (code, v) = json(&path.display().to_string());
    assert_eq!(code, 0, "{v:#}");
    let mc = find(&v, "iommus", MC);
    assert_eq!(mc["status"], "initialised");
    assert_eq!(mc["driver"], "tegra124_smmu");
    // (master, TEGRA_SWGROUP_*, group) from tegra124.dtsi, tegra124-mc.h
    // and tegra124.c's tegra124_groups.
    let masters = [
        ("/host1x@50000000", 6, None),                      // HC
        ("/host1x@50000000/vi@54080000", 25, None),         // VI
        ("/host1x@50000000/dc@54200000", 1, Some("drm")),   // DC
        ("/host1x@50000000/dc@54240000", 2, Some("drm")),   // DCB
        ("/host1x@50000000/vic@54340000", 24, Some("drm")), // VIC
        ("/gpu@57000000", 19, None),                        // GPU
    ];
    for (path, swgroup, group) in masters {
        let m = find(&v, "masters", path);
        assert!(m["error"].is_null(), "{m:#}");
        assert_eq!(m["translation"], "direct", "{path}");
        assert_eq!(m["untranslated"]["reason"], "identity-default", "{path}");
        assert_eq!(
            translations(m),
            vec![(MC.to_owned(), vec![swgroup])],
            "{path}"
        );
        assert!(m["domain"].is_null(), "{m:#}");
        assert_eq!(m["group"].as_str(), group, "{path}");
    }
    // No `iommus` in the dtsi: untranslated, and no error.
    for path in ["/hda@70030000", "/mmc@700b0600"] {
        let m = find(&v, "masters", path);
        assert_eq!(m["translation"], "direct", "{path}");
        assert_eq!(m["untranslated"]["reason"], "no-iommu");
        assert!(translations(m).is_empty());
    }
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(0));
}

/// tegra30.dtsi's controller is "nvidia,tegra30-mc": its own driver.
/// A master listing two swgroups keeps both IDs (of_xlate runs per
/// entry); a swgroup past every SoC table (255) is stored all the same.
#[test]
fn tegra30_controller_and_unlisted_swgroups() {
    let dts = r#"/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	mc: memory-controller@7000f000 {
		compatible = "nvidia,tegra30-mc";
		reg = <0x7000f000 0x400>;
		#iommu-cells = <1>;
	};
	dc@54200000 {
		reg = <0x54200000 0x40000>;
		iommus = <&mc 1>, <&mc 2>;
	};
	dma@60000000 {
		reg = <0x60000000 0x100>;
		iommus = <&mc 255>;
	};
};
"#;
    let dir = scratch("dt_tegra", "tegra30");
    let path = write(&dir, "board.dts", dts);
    let (code, v) = json(&path);
    assert_eq!(code, 0, "{v:#}");
    let mc = "/memory-controller@7000f000";
    assert_eq!(find(&v, "iommus", mc)["driver"], "tegra30_smmu");
    assert_eq!(
        translations(find(&v, "masters", "/dc@54200000")),
        vec![(mc.to_owned(), vec![1, 2])]
    );
    let far = find(&v, "masters", "/dma@60000000");
    assert!(far["error"].is_null(), "{far:#}");
    assert_eq!(translations(far), vec![(mc.to_owned(), vec![255])]);
    // Tegra30's "drm" group holds DC and DCB: both IDs are in it.
    assert_eq!(find(&v, "masters", "/dc@54200000")["group"], "drm");
    assert!(far["group"].is_null());
}

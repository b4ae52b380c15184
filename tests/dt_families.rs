//! `iommugen dt` on fragments of real Linux device trees for the families
//! tests/dt_cli.rs does not cover: the Samsung Exynos SysMMU
//! (tests/dts/exynos5433-sysmmu.dts), the MediaTek mt8173 M4U
//! (tests/dts/mt8173-m4u.dts) and the Allwinner H6 IOMMU
//! (tests/dts/sun50i-h6-iommu.dts). Every expected value is worked out
//! from the binding and the Linux driver named next to it, not from our
//! own output: the IDs from the binding's cell format and the driver's
//! `of_xlate`, the domain sharing from the driver's `device_group` (Linux
//! gives each IOMMU group one default DMA domain).

use std::path::Path;

use serde_json::Value;

mod tools;

mod cli;
use cli::report::{find, translations};

fn dts(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dts")
        .join(name)
        .display()
        .to_string()
}

/// `iommugen dt --format json [--lint] tests/dts/FILE`: exit status and
/// report.
fn dt_json(file: &str, lint: bool) -> (i32, Value) {
    dt_json_at(&dts(file), lint)
}

/// As `dt_json`, for a tree at `path`.
fn dt_json_at(path: &str, lint: bool) -> (i32, Value) {
    tools::require("dtc", "device-tree-compiler");
    cli::report::dt_json(path, if lint { &["--lint"] } else { &[] })
}

/// The codes of the report's diagnostics.
fn codes(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A master Linux translates: the fwspec filled, a domain attached, no
/// error; non-coherent and without a `dma-ranges` window (none of these
/// trees has `dma-coherent` or `dma-ranges`, so of_dma_configure leaves
/// the device non-coherent with no bus limit). Its domain index.
fn translated(m: &Value) -> u64 {
    assert!(m["error"].is_null(), "{m:#}");
    assert_eq!(m["translation"], "iommu", "{m:#}");
    assert!(m["untranslated"].is_null(), "{m:#}");
    assert_eq!(m["dma_coherent"], false, "{m:#}");
    assert!(m["dma_window"].is_null(), "{m:#}");
    m["domain"]
        .as_u64()
        .unwrap_or_else(|| panic!("no domain: {m:#}"))
}

/// Every IOMMU node is claimed by `driver` and initialised: no W0302.
fn all_claimed(v: &Value, driver: &str, count: usize) {
    let iommus = v["iommus"].as_array().expect("an iommus list");
    assert_eq!(iommus.len(), count, "{v:#}");
    for i in iommus {
        assert_eq!(i["driver"], driver, "{i:#}");
        assert_eq!(i["status"], "initialised", "{i:#}");
        assert!(i["error"].is_null(), "{i:#}");
    }
}

/// The report and the lint are clean: the tree is one Linux handles as
/// written, so neither the boot flow nor `--lint` has anything to say.
fn clean(file: &str) -> Value {
    let (code, v) = dt_json(file, false);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(codes(&v), Vec::<String>::new(), "{v:#}");
    let (code, linted) = dt_json(file, true);
    assert_eq!(code, 0, "{linted:#}");
    assert_eq!(codes(&linted), Vec::<String>::new(), "{linted:#}");
    v
}

#[test]
fn exynos5433_sysmmus_one_domain_per_master_across_its_sysmmus() {
    // samsung,sysmmu.yaml: #iommu-cells = <0>, a master lists every SysMMU
    // in front of it. exynos_iommu_of_xlate adds the SysMMU to the
    // master's list of controllers and stores no ID in the fwspec.
    let v = clean("exynos5433-sysmmu.dts");
    all_claimed(&v, "exynos_sysmmu", 12);
    let sysmmu = |unit: &str| format!("/soc@0/sysmmu@{unit}");
    let behind: [(&str, Vec<&str>); 9] = [
        ("decon@13800000", vec!["13a00000", "13a10000"]),
        ("decon@13880000", vec!["13a20000", "13a30000"]),
        ("video-scaler@13c00000", vec!["13c80000"]),
        ("video-scaler@13c10000", vec!["13c90000"]),
        ("video-scaler@13c20000", vec!["13ca0000"]),
        ("scaler@15000000", vec!["15040000"]),
        ("scaler@15010000", vec!["15050000"]),
        ("codec@15020000", vec!["15060000"]),
        ("codec@152e0000", vec!["15200000", "15210000"]),
    ];
    let mut domains = vec![];
    for (master, units) in &behind {
        let m = find(&v, "masters", &format!("/soc@0/{master}"));
        domains.push(translated(m));
        let expected: Vec<(String, Vec<u64>)> = units.iter().map(|u| (sysmmu(u), vec![])).collect();
        assert_eq!(translations(m), expected, "{master}");
        // One `iommus` entry per SysMMU, no cells, no IDs.
        let specs: Vec<usize> = m["translations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t["specifiers"][0]["cells"].as_array().map_or(9, Vec::len))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(specs, vec![0; units.len()], "{master}");
    }
    // exynos_iommu_ops.device_group is generic_device_group: each master
    // is its own group, so each gets its own default domain, and
    // exynos_iommu_attach_device programs that one page table into every
    // SysMMU on the master's list (MFC's left and right, DECON's m0 and
    // m1). Nine masters, nine domains.
    let mut distinct = domains.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), domains.len(), "{domains:?}");
    // A SysMMU is a platform device too, without an IOMMU of its own.
    let s = find(&v, "masters", &sysmmu("15200000"));
    assert_eq!(s["translation"], "direct");
    assert_eq!(s["untranslated"]["reason"], "no-iommu");
}

#[test]
fn mt8173_m4u_larb_port_ids_and_one_shared_domain() {
    // mediatek,iommu.yaml: one cell, MTK_M4U_ID(larb, port) = larb << 5 |
    // port; mtk_iommu_of_xlate checks for one cell and stores it whole
    // (iommu_fwspec_add_ids), so each ID is the cell. The values are the
    // port macros of mt8173-larb-port.h worked out by hand.
    let v = clean("mt8173-m4u.dts");
    all_claimed(&v, "mtk_m4u_4gb", 1);
    let m4u = "/soc/iommu@10205000".to_owned();
    let cases: [(&str, Vec<u64>); 9] = [
        ("ovl@1400c000", vec![0x00]),
        ("ovl@1400d000", vec![4 << 5]),
        ("rdma@1400e000", vec![0x01]),
        ("rdma@14010000", vec![4 << 5 | 2]),
        ("wdma@14011000", vec![0x02]),
        // The decoder's eight larb-1 ports, in the tree's order.
        (
            "vcodec@16000000",
            vec![
                1 << 5,
                1 << 5 | 1,
                1 << 5 | 5,
                1 << 5 | 6,
                1 << 5 | 7,
                1 << 5 | 2,
                1 << 5 | 3,
                1 << 5 | 4,
            ],
        ),
        // The AVC encoder: larb 3 ports 0-4 and 9-14.
        (
            "vcodec@18002000",
            [0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 14]
                .iter()
                .map(|p| 3 << 5 | p)
                .collect(),
        ),
        ("jpegdec@18004000", vec![3 << 5 | 7, 3 << 5 | 8]),
        // The VP8 encoder: larb 5, the tree's order of the SET2 ports.
        (
            "vcodec@19002000",
            [0, 1, 4, 8, 7, 5, 6, 2, 3]
                .iter()
                .map(|p| 5 << 5 | p)
                .collect(),
        ),
    ];
    let mut domains = vec![];
    for (master, ids) in &cases {
        let m = find(&v, "masters", &format!("/soc/{master}"));
        domains.push(translated(m));
        assert_eq!(
            translations(m),
            vec![(m4u.clone(), ids.clone())],
            "{master}"
        );
        // One of_xlate call per `iommus` entry, each storing its cell.
        let per_entry: Vec<Vec<u64>> = m["translations"][0]["specifiers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        s["ids"]
                            .as_array()
                            .map_or(vec![], |i| i.iter().filter_map(Value::as_u64).collect())
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            per_entry,
            ids.iter().map(|i| vec![*i]).collect::<Vec<_>>(),
            "{master}"
        );
    }
    // mtk_iommu_device_group takes the group from mtk_iommu_get_group_id:
    // the mt8173 has one bank and one IOVA region (single_domain), so
    // every master lands in group 0 and shares its default domain.
    assert!(domains.iter().all(|d| *d == domains[0]), "{domains:?}");
    // The larbs name no IOMMU: direct DMA.
    let larb = find(&v, "masters", "/soc/larb@14021000");
    assert_eq!(larb["translation"], "direct");
    assert_eq!(larb["untranslated"]["reason"], "no-iommu");
}

#[test]
fn sun50i_h6_master_index_cells() {
    // allwinner,sun50i-h6-iommu.yaml: one cell, the master ID;
    // sun50i_iommu_of_xlate stores args[0] whole. Mixer 0 is master 0
    // (<&iommu 0>), the video engine master 3 (<&iommu 3>). The mixer
    // sits on the display engine bus, which is not a simple-bus (the DE
    // bus driver populates it), and is configured all the same.
    let v = clean("sun50i-h6-iommu.dts");
    all_claimed(&v, "sun50i_iommu", 1);
    let iommu = "/soc/iommu@30f0000".to_owned();
    let mixer = find(&v, "masters", "/soc/bus@1000000/mixer@100000");
    translated(mixer);
    assert_eq!(translations(mixer), vec![(iommu.clone(), vec![0])]);
    let ve = find(&v, "masters", "/soc/video-codec@1c0e000");
    translated(ve);
    assert_eq!(translations(ve), vec![(iommu, vec![3])]);
}

/// sun50i_iommu_device_group returns the one group the IOMMU allocated at
/// probe (iommu_group_ref_get(iommu->group)), so the mixer and the video
/// engine share one default domain; the spec says `domain per-instance`.
#[test]
fn sun50i_h6_masters_share_the_iommus_one_domain() {
    let (code, v) = dt_json("sun50i-h6-iommu.dts", false);
    assert_eq!(code, 0, "{v:#}");
    let mixer = translated(find(&v, "masters", "/soc/bus@1000000/mixer@100000"));
    let ve = translated(find(&v, "masters", "/soc/video-codec@1c0e000"));
    assert_eq!(mixer, ve, "one group per IOMMU, as Linux");
}

#[test]
fn rk3568_version_2_iommus_one_master_each() {
    // rockchip,iommu.yaml: #iommu-cells = <0>; rk_iommu_of_xlate records
    // the IOMMU behind the master and stores no ID. "rockchip,rk3568-iommu"
    // is the version-2 driver (40-bit physical addresses in its entries).
    let v = clean("rk3568-iommu.dts");
    all_claimed(&v, "rockchip_rk3568_iommu", 3);
    let mut domains = vec![];
    for (master, mmu) in [
        ("/video-codec@fdea0400", "/iommu@fdea0800"),
        ("/video-codec@fdee0000", "/iommu@fdee0800"),
        ("/vop@fe040000", "/iommu@fe043e00"),
    ] {
        let m = find(&v, "masters", master);
        domains.push(translated(m));
        assert_eq!(translations(m), vec![(mmu.to_owned(), vec![])], "{master}");
    }
    // rk_iommu_device_group returns the group each IOMMU allocated at
    // probe: one group per IOMMU. Each of these IOMMUs serves one master,
    // so each master has its own domain (the spec's per-device says the
    // same here).
    let mut distinct = domains.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{domains:?}");
}

/// Before Linux split it in two, the mt8173's video encoder was one node
/// (vcodec_enc: vcodec@18002000 at torvalds/linux commit 1b62d134d3c5)
/// whose `iommus` named ports of larb 3 and of larb 5
/// (tests/dts/mt8173-vcodec-enc-two-larbs.dts, three of its twenty ports
/// kept). Linux's mtk_iommu_probe_device links a master to the larb of its
/// first ID and, unless the SoC's data has DL_WITH_MULTI_LARB (the
/// mt8173's has not), refuses any other larb ("Can only use one larb",
/// -EINVAL): the encoder gets no IOMMU and runs with direct DMA. The
/// spec's `master same larb;` does the same once all three specifiers are
/// read: `probe-refused`, an outcome and not an error of the tree.
#[test]
fn mt8173_master_across_two_larbs_is_refused_as_linux_does() {
    let (code, v) = dt_json("mt8173-vcodec-enc-two-larbs.dts", true);
    assert_eq!(code, 0, "{v:#}");
    let enc = find(&v, "masters", "/soc/vcodec@18002000");
    assert!(enc["error"].is_null(), "{enc:#}");
    assert_eq!(enc["translation"], "direct", "{enc:#}");
    assert!(enc["domain"].is_null(), "{enc:#}");
    assert_eq!(enc["untranslated"]["reason"], "probe-refused", "{enc:#}");
    let message = enc["untranslated"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("ID 0xa0 has larb 5 and the first ID 0x60 larb 3"),
        "{message}"
    );
    assert_eq!(translations(enc), vec![]);
    // Its neighbour, whose ports are all in larb 3, is translated.
    let jpeg = find(&v, "masters", "/soc/jpegdec@18004000");
    translated(jpeg);
    assert_eq!(
        translations(jpeg),
        vec![("/soc/iommu@10205000".to_owned(), vec![0x67, 0x68])]
    );
    assert_eq!(codes(&v), Vec::<String>::new(), "{v:#}");
}

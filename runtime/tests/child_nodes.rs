//! The tree queries behind `child` and `main property`: children by
//! compatible (available ones only), a property's first cell, and a
//! family's main instance.

use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::instances;

fn with_tree<R>(blob: &[u8], f: impl FnOnce(DeviceTree<'_>) -> R) -> R {
    let fdt = Fdt::new(blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    f(tree)
}

/// msm8916's apps_iommu with its three banks, one disabled here, and a
/// grandchild that is not a direct child.
fn qcom_blob() -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    let iommu = w.begin_node("iommu@1ef0000").unwrap();
    w.property_string_list(
        "compatible",
        vec!["qcom,msm8916-iommu".into(), "qcom,msm-iommu-v1".into()],
    )
    .unwrap();
    for (unit, compatible, status) in [
        (0x3000u32, "qcom,msm-iommu-v1-sec", None),
        (0x4000, "qcom,msm-iommu-v1-ns", None),
        (0x5000, "qcom,msm-iommu-v1-sec", Some("disabled")),
    ] {
        let c = w.begin_node(&format!("iommu-ctx@{unit:x}")).unwrap();
        w.property_string("compatible", compatible).unwrap();
        w.property_array_u32("reg", &[unit, 0x1000]).unwrap();
        if let Some(s) = status {
            w.property_string("status", s).unwrap();
        }
        if unit == 0x4000 {
            let g = w.begin_node("iommu-ctx@9000").unwrap();
            w.property_string("compatible", "qcom,msm-iommu-v1-ns")
                .unwrap();
            w.end_node(g).unwrap();
        }
        w.end_node(c).unwrap();
    }
    w.end_node(iommu).unwrap();
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

#[test]
fn available_direct_children_of_the_compatibles() {
    with_tree(&qcom_blob(), |tree| {
        let iommu = tree.find_path("/iommu@1ef0000").unwrap();
        let banks = |c: &[&str]| -> Vec<String> {
            iommu
                .children_compatible(c)
                .map(|n: Node<'_>| n.name().to_owned())
                .collect()
        };
        assert_eq!(
            banks(&["qcom,msm-iommu-v1-ns", "qcom,msm-iommu-v1-sec"]),
            ["iommu-ctx@3000", "iommu-ctx@4000"]
        );
        assert_eq!(banks(&["qcom,msm-iommu-v1-ns"]), ["iommu-ctx@4000"]);
        assert!(banks(&[]).is_empty());
        assert!(banks(&["qcom,msm-iommu-v1"]).is_empty());
        let ctx = tree.find_path("/iommu@1ef0000/iommu-ctx@4000").unwrap();
        // The first cell of a two-cell `reg`; a missing property is None.
        assert_eq!(ctx.first_u32("reg"), Some(0x4000));
        assert_eq!(ctx.first_u32("qcom,ctx-asid"), None);
        // A string property is read as cells only when whole cells.
        assert_eq!(ctx.first_u32("compatible"), None);
        assert!(iommu.is_compatible("qcom,msm-iommu-v1"));
        assert!(!iommu.is_compatible("qcom,msm-iommu"));
    });
}

fn ipmmu_blob(main_status: Option<&str>) -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    for (name, phandle, main) in [
        ("iommu@e67b0000", 1u32, None),
        ("iommu@e7740000", 2, Some([1u32, 1])),
    ] {
        let n = w.begin_node(name).unwrap();
        w.property_string("compatible", "renesas,ipmmu-r8a7795")
            .unwrap();
        w.property_u32("phandle", phandle).unwrap();
        if let Some(cells) = main {
            w.property_array_u32("renesas,ipmmu-main", &cells).unwrap();
        } else if let Some(s) = main_status {
            w.property_string("status", s).unwrap();
        }
        w.end_node(n).unwrap();
    }
    let other = w.begin_node("iommu@f0000000").unwrap();
    w.property_string("compatible", "arm,smmu-v3").unwrap();
    w.end_node(other).unwrap();
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

#[test]
fn a_cache_instance_and_its_main_instance() {
    const P: &str = "renesas,ipmmu-main";
    let family = ["renesas,ipmmu-r8a7795", "renesas,ipmmu-r8a7796"];
    with_tree(&ipmmu_blob(None), |tree| {
        let mm = tree.find_path("/iommu@e67b0000").unwrap();
        let ds1 = tree.find_path("/iommu@e7740000").unwrap();
        assert!(instances::is_cache(ds1, P) && !instances::is_cache(mm, P));
        assert_eq!(instances::main_instance(tree, P, &family), Some(mm));
        // The SMMU is not of the family.
        assert_eq!(
            instances::main_instance(tree, P, &["arm,smmu-v3"]).map(|n| n.name()),
            Some("iommu@f0000000")
        );
        assert_eq!(
            instances::named_main(ds1, P).map(|r| r.ok()),
            Some(Some(mm))
        );
        assert_eq!(instances::named_main(mm, P).map(|r| r.ok()), None);
    });
    // A disabled main IPMMU never probes: no main instance.
    with_tree(&ipmmu_blob(Some("disabled")), |tree| {
        assert_eq!(instances::main_instance(tree, P, &family), None);
    });
}

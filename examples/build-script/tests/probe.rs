//! The generated drivers' probe step (`master same larb;` in
//! examples/mediatek-m4u.iommu, `master one instance;` in
//! examples/qcom-iommu.iommu), run by the boot flow once every specifier
//! of a master went through `of_xlate`: Linux's mtk_iommu_probe_device
//! refuses a master whose IDs name two larbs ("Can only use one larb"),
//! qcom_iommu a master whose banks are on two IOMMUs.

use iommugen_example_build_script::generated::mediatek_m4u::{
    MtkM4u, MtkM4u4gb, MtkMt8192M4u, MtkMt8195Infra, MtkMt8195Mm,
};
use iommugen_example_build_script::generated::qcom_iommu::QcomIommu;
use iommugen_example_build_script::TABLES;
use iommugen_runtime::configure::{of_iommu_configure, Configured};
use iommugen_runtime::decl::IommuDriver;
use iommugen_runtime::fdt::{DeviceTree, Fdt, NodeEntry, NodeId, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::master::Master;
use iommugen_runtime::probe::{ProbePolicy, ProbeRefusal, SameField};

/// An mt8173 M4U (phandle 1), two msm8916 IOMMUs with bank 1 each
/// (phandles 2 and 3), and masters.
fn blob() -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    let n = w.begin_node("iommu@10205000").unwrap();
    w.property_string("compatible", "mediatek,mt8173-m4u")
        .unwrap();
    w.property_u32("#iommu-cells", 1).unwrap();
    w.property_u32("phandle", 1).unwrap();
    w.end_node(n).unwrap();
    for (name, phandle) in [("iommu@1ef0000", 2), ("iommu@1f08000", 3)] {
        let n = w.begin_node(name).unwrap();
        w.property_string("compatible", "qcom,msm-iommu-v1")
            .unwrap();
        w.property_u32("#iommu-cells", 1).unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.property_u32("#size-cells", 1).unwrap();
        w.property_u32("phandle", phandle).unwrap();
        let c = w.begin_node("iommu-ctx@1000").unwrap();
        w.property_string("compatible", "qcom,msm-iommu-v1-ns")
            .unwrap();
        w.property_array_u32("reg", &[0x1000, 0x1000]).unwrap();
        w.end_node(c).unwrap();
        w.end_node(n).unwrap();
    }
    for (name, iommus) in [
        // Larb 3, ports 0 and 1.
        ("venc-avc", &[1, 0x60, 1, 0x61][..]),
        // Larbs 3 and 5: the mt8173 encoder before Linux split it.
        ("venc", &[1, 0x60, 1, 0x61, 1, 0xa0][..]),
        // Bank 1 on one IOMMU, twice: fine.
        ("gpu", &[3, 1, 3, 1][..]),
        // Bank 1 on each IOMMU.
        ("dma", &[2, 1, 3, 1][..]),
    ] {
        let n = w.begin_node(name).unwrap();
        w.property_array_u32("iommus", iommus).unwrap();
        w.end_node(n).unwrap();
    }
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

#[test]
fn the_policies_are_the_specs() {
    let larb = Some(SameField {
        name: "larb",
        shift: 5,
        width: 5,
    });
    let same_larb = ProbePolicy {
        one_instance: false,
        same: larb,
    };
    assert_eq!(MtkM4u::PROBE, same_larb);
    assert_eq!(MtkM4u4gb::PROBE, same_larb);
    assert_eq!(MtkMt8192M4u::PROBE, same_larb);
    assert_eq!(MtkMt8195Mm::PROBE, same_larb);
    assert_eq!(
        QcomIommu::PROBE,
        ProbePolicy {
            one_instance: true,
            same: None
        }
    );
}

#[test]
fn the_boot_flow_refuses_what_linux_refuses() {
    let blob = blob();
    let fdt = Fdt::new(&blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    let mut records = vec![IommuRecord::EMPTY; tree.len()];
    let table = iommu_init(&tree, TABLES, &mut records).unwrap();
    let node = |p: &str| tree.find_path(p).unwrap();
    let mut fw = FwSpec::<8, 4>::new();

    let avc = of_iommu_configure(node("/venc-avc"), &table, &mut fw);
    assert_eq!(avc, Ok(Configured::Translated));

    let m4u = node("/iommu@10205000").id();
    assert_eq!(
        of_iommu_configure(node("/venc"), &table, &mut fw),
        Ok(Configured::ProbeRefused {
            node: m4u,
            refusal: ProbeRefusal::FieldDiffers {
                field: "larb",
                first: 3,
                other: 5,
                first_id: 0x60,
                other_id: 0xa0
            }
        })
    );
    assert!(fw.is_empty());

    assert_eq!(
        of_iommu_configure(node("/gpu"), &table, &mut fw),
        Ok(Configured::Translated)
    );
    let (apps, gpu) = (node("/iommu@1ef0000").id(), node("/iommu@1f08000").id());
    assert_eq!(
        of_iommu_configure(node("/dma"), &table, &mut fw),
        Ok(Configured::ProbeRefused {
            node: apps,
            refusal: ProbeRefusal::SeveralInstances {
                first: apps,
                other: gpu
            }
        })
    );

    // Linux checks larbs on multimedia M4Us only (every infra ID is larb
    // 0): the infra driver has no rule, the trait's default accepts.
    let mut two_larbs = FwSpec::<8, 4>::new();
    let mut sink = two_larbs.sink(m4u).unwrap();
    sink.push(0x60).unwrap();
    sink.push(0xa0).unwrap();
    let all = |_: NodeId| true;
    let view = two_larbs.probe_view(&all);
    let master = Master::platform(node("/venc"), None);
    assert_eq!(MtkMt8195Infra.probe_device(&master, &view), Ok(()));
    assert!(MtkMt8195Mm.probe_device(&master, &view).is_err());
}

//! The seed's steps (1)–(4) on trees built with vm-fdt. Expected values
//! come from the bindings and Linux's rules named in each test.

mod common;

use common::*;
use iommugen_runtime::boot::{setup_master, setup_pci};
use iommugen_runtime::configure::{of_iommu_configure, ConfigureError, Configured};
use iommugen_runtime::decl::{Declaration, DriverError, IOMMU_DECLARATIONS};
use iommugen_runtime::dma::{dma_window, is_coherent, DmaWindow};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord, IommuState};
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainOwner, DomainTable};

/// An Arm SMMU (2 cells), an SMMUv3 (1 cell), a Rockchip IOMMU (0 cells), a
/// disabled SMMU, a broken one, an unclaimed one, and masters for each.
fn soc() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("soc")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1);
    b.begin("iommu@1000")
        .strs("compatible", &["arm,mmu-500", "arm,smmu-v2"])
        .u32("#iommu-cells", 2)
        .u32("phandle", 1)
        .end();
    b.begin("iommu@2000")
        .strs("compatible", &["arm,smmu-v3"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 2)
        .end();
    b.begin("iommu@3000")
        .strs("compatible", &["rockchip,iommu"])
        .u32("#iommu-cells", 0)
        .u32("phandle", 3)
        .end();
    b.begin("iommu@4000")
        .strs("compatible", &["arm,mmu-401"])
        .u32("#iommu-cells", 1)
        .str("status", "disabled")
        .u32("phandle", 4)
        .end();
    b.begin("iommu@5000")
        .strs("compatible", &["acme,broken-iommu"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 5)
        .end();
    b.begin("iommu@6000")
        .strs("compatible", &["acme,unknown-iommu"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 6)
        .end();
    b.begin("iommu@7000")
        .strs("compatible", &["arm,mmu-500"])
        .u32("#iommu-cells", 1)
        .u32("stream-match-mask", 0x7c00)
        .u32("phandle", 7)
        .end();
    b.begin("gpu@a000")
        .cells("iommus", &[1, 0x100, 0x7f80])
        .end();
    b.begin("dma@b000")
        .cells("iommus", &[2, 0x21, 2, 0x22])
        .end();
    b.begin("vop@c000").cells("iommus", &[3]).end();
    b.begin("usb@d000").cells("iommus", &[4, 0x5]).end();
    b.begin("isp@e000").cells("iommus", &[5, 0x5]).end();
    b.begin("vpu@f000").cells("iommus", &[6, 0x5]).end();
    b.begin("nic@10000").cells("iommus", &[7, 0x42]).end();
    b.begin("multi@11000")
        .cells("iommus", &[0, 1, 0x10, 0x0, 7, 0x11])
        .end();
    b.begin("uart@12000").end();
    b.begin("notiommu@13000").cells("iommus", &[8, 1]).end();
    b.begin("timer@14000").u32("phandle", 8).end();
    b.begin("bad@15000").cells("iommus", &[2, 1, 2]).end();
    b.end();
    b.finish()
}

fn configure(blob: &[u8], path: &str) -> (Result<Configured, ConfigureError>, Vec<(String, u32)>) {
    with_booted(blob, |tree, table| {
        let node = tree.find_path(path).unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let r = of_iommu_configure(node, &table, &mut fw);
        let ids = fw
            .all_ids()
            .map(|(n, id)| (tree.node(n).unwrap().name().to_string(), id))
            .collect();
        (r, ids)
    })
}

#[test]
fn declaration_match_prefers_the_most_specific_compatible() {
    // Linux of_match_node: the node's compatible list is tried in order, so
    // "arm,mmu-500" wins over "arm,smmu-v2" even when the table lists the
    // generic entry first.
    let table: &[Declaration<'static>] = &[
        Declaration {
            compatible: "arm,smmu-v2",
            driver: &SmmuV3,
        },
        Declaration {
            compatible: "arm,mmu-500",
            driver: &ArmSmmu,
        },
    ];
    let blob = soc();
    with_tree(&blob, |tree| {
        let node = tree.find_path("/soc/iommu@1000").unwrap();
        let d = iommugen_runtime::decl::match_node(&[table], node).unwrap();
        assert_eq!(d.compatible, "arm,mmu-500");
        assert_eq!(d.driver.name(), "arm_smmu");
    });
}

#[test]
fn iommu_init_records_each_node_and_keeps_going_past_failures() {
    let blob = soc();
    with_booted(&blob, |tree, table| {
        let state = |p: &str| table.get(tree.find_path(p).unwrap().id()).unwrap().state;
        assert!(
            matches!(state("/soc/iommu@1000"), IommuState::Initialised { decl, .. } if decl.compatible == "arm,mmu-500")
        );
        // The Rockchip driver's hook returned InstanceData(7): of_iommu_set_data.
        assert!(matches!(
            state("/soc/iommu@3000"),
            IommuState::Initialised { data, .. } if data.0 == 7
        ));
        assert!(matches!(
            state("/soc/iommu@4000"),
            IommuState::Disabled { decl: Some(_) }
        ));
        assert!(matches!(
            state("/soc/iommu@5000"),
            IommuState::Failed {
                error: DriverError::Other(_),
                ..
            }
        ));
        assert!(matches!(state("/soc/iommu@6000"), IommuState::Unclaimed));
        // of_iommu_get_data gives back what the hook returned.
        assert_eq!(
            table.data(tree.find_path("/soc/iommu@3000").unwrap().id()),
            Some(iommugen_runtime::decl::InstanceData(7))
        );
        assert_eq!(
            table.data(tree.find_path("/soc/iommu@5000").unwrap().id()),
            None
        );
        // A node after the failing one still initialised.
        assert!(matches!(
            state("/soc/iommu@7000"),
            IommuState::Initialised { .. }
        ));
        assert_eq!(table.records().len(), 7);
        assert!(table
            .get(tree.find_path("/soc/gpu@a000").unwrap().id())
            .is_none());
    });
}

#[test]
fn two_cell_arm_smmu_packs_mask_above_stream_id() {
    // arm-smmu binding, #iommu-cells = 2: <SID mask>; Linux keeps
    // mask << 16 | SID = 0x7f80 << 16 | 0x100.
    let (r, ids) = configure(&soc(), "/soc/gpu@a000");
    assert_eq!(r, Ok(Configured::Translated));
    assert_eq!(ids, vec![("iommu@1000".into(), 0x7f80_0100)]);
}

#[test]
fn one_cell_arm_smmu_takes_mask_from_stream_match_mask() {
    // arm-smmu binding: with one cell the SMMU's stream-match-mask (0x7c00)
    // is the mask: 0x7c00 << 16 | 0x42.
    let (r, ids) = configure(&soc(), "/soc/nic@10000");
    assert_eq!(r, Ok(Configured::Translated));
    assert_eq!(ids, vec![("iommu@7000".into(), 0x7c00_0042)]);
}

#[test]
fn several_entries_and_several_instances() {
    // Two SIDs on one SMMUv3; and a master naming an empty entry (phandle 0)
    // then two different SMMUs.
    let (r, ids) = configure(&soc(), "/soc/dma@b000");
    assert_eq!(r, Ok(Configured::Translated));
    assert_eq!(
        ids,
        vec![("iommu@2000".into(), 0x21), ("iommu@2000".into(), 0x22)]
    );
    let (r, ids) = configure(&soc(), "/soc/multi@11000");
    assert_eq!(r, Ok(Configured::Translated));
    assert_eq!(
        ids,
        vec![
            ("iommu@1000".into(), 0x10),
            ("iommu@7000".into(), 0x7c00_0011)
        ]
    );
}

#[test]
fn zero_cell_iommu_identifies_master_by_phandle_alone() {
    let blob = soc();
    with_booted(&blob, |tree, table| {
        let node = tree.find_path("/soc/vop@c000").unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        assert_eq!(
            of_iommu_configure(node, &table, &mut fw),
            Ok(Configured::Translated)
        );
        assert_eq!(
            fw.iommus(),
            &[tree.find_path("/soc/iommu@3000").unwrap().id()]
        );
        assert_eq!(fw.all_ids().count(), 0);
    });
}

#[test]
fn disabled_iommu_means_untranslated_not_error() {
    // of_iommu_xlate: an unavailable IOMMU gives -ENODEV, the device runs
    // without translation.
    let blob = soc();
    let (r, ids) = configure(&blob, "/soc/usb@d000");
    let iommu = with_tree(&blob, |t| t.find_path("/soc/iommu@4000").unwrap().id());
    assert_eq!(r, Ok(Configured::IommuDisabled { node: iommu }));
    assert!(ids.is_empty());
}

#[test]
fn errors_name_their_cause() {
    let blob = soc();
    // Failed hook and unclaimed node: not initialised (Linux defers probe).
    assert!(matches!(
        configure(&blob, "/soc/isp@e000").0,
        Err(ConfigureError::NotInitialised { .. })
    ));
    assert!(matches!(
        configure(&blob, "/soc/vpu@f000").0,
        Err(ConfigureError::NotInitialised { .. })
    ));
    // Phandle to a node without #iommu-cells.
    assert!(matches!(
        configure(&blob, "/soc/notiommu@13000").0,
        Err(ConfigureError::NotAnIommu { entry: 0, .. })
    ));
    // <&smmuv3 1> then <&smmuv3> with its cell missing: truncated.
    assert_eq!(
        configure(&blob, "/soc/bad@15000").0,
        Err(ConfigureError::Truncated { entry: 1 })
    );
}

#[test]
fn no_iommus_is_direct_dma() {
    let blob = soc();
    with_booted(&blob, |tree, table| {
        let node = tree.find_path("/soc/uart@12000").unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let mut d = vec![DomainInfo::EMPTY; 4];
        let mut per = vec![0; table.records().len()];
        let mut domains = DomainTable::new(&mut d, &mut per);
        let s = setup_master(node, &table, &mut fw, &mut domains).unwrap();
        assert_eq!(s.configured, Configured::NoIommu);
        assert_eq!(s.dma.ops, DmaOps::Direct);
        assert_eq!(s.dma.mask, u64::MAX);
    });
}

/// A PCI host bridge in the Layerscape style with `iommu-map-mask`.
fn pci_tree(map: &[u32], mask: Option<u32>) -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("iommu@5000000")
        .strs("compatible", &["arm,mmu-500"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 1)
        .end();
    b.begin("pcie@3400000")
        .str("device_type", "pci")
        .u32("#address-cells", 3)
        .u32("#size-cells", 2)
        .cells("iommu-map", map);
    if let Some(m) = mask {
        b.u32("iommu-map-mask", m);
    }
    b.end();
    b.finish()
}

fn map_rid(blob: &[u8], rid: u32) -> Result<(Configured, Option<u32>), ConfigureError> {
    with_booted(blob, |tree, table| {
        let host = tree.find_path("/pcie@3400000").unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let mut d = vec![DomainInfo::EMPTY; 4];
        let mut per = vec![0; table.records().len()];
        let mut domains = DomainTable::new(&mut d, &mut per);
        match setup_pci(host, rid, &table, &mut fw, &mut domains) {
            Ok((s, mapped)) => {
                let ids: Vec<u32> = fw.all_ids().map(|(_, id)| id).collect();
                if let Some((_, id)) = mapped {
                    if s.configured == Configured::Translated {
                        assert_eq!(ids, vec![id]);
                    }
                }
                Ok((s.configured, mapped.map(|m| m.1)))
            }
            Err(iommugen_runtime::boot::MasterError::Configure(e)) => Err(e),
            Err(e) => panic!("{e}"),
        }
    })
}

#[test]
fn iommu_map_translates_rid_with_offset() {
    // of_map_id: entry <rid-base=0x100 &smmu out-base=0x4000 len=0x100>:
    // RID 0x123 → 0x4000 + (0x123 - 0x100) = 0x4023.
    let blob = pci_tree(&[0x100, 1, 0x4000, 0x100], None);
    assert_eq!(
        map_rid(&blob, 0x123),
        Ok((Configured::Translated, Some(0x4023)))
    );
    // 0x200 is one past the entry: no translation.
    assert_eq!(map_rid(&blob, 0x200), Ok((Configured::NoMapEntry, None)));
}

#[test]
fn iommu_map_mask_applies_before_lookup() {
    // LS1043A-style mask 0x7 keeps only the function number: RID 0x0305
    // (bus 3, dev 0, fn 5) masks to 5; entry <0 &smmu 0x40 8> → 0x45.
    let blob = pci_tree(&[0, 1, 0x40, 8], Some(0x7));
    assert_eq!(
        map_rid(&blob, 0x0305),
        Ok((Configured::Translated, Some(0x45)))
    );
    // A base with bits outside the mask is an inconsistent map.
    let blob = pci_tree(&[0x10, 1, 0x40, 8], Some(0x7));
    assert!(matches!(
        map_rid(&blob, 0x10),
        Err(ConfigureError::Map(
            iommugen_runtime::map_id::MapError::BaseOutsideMask { .. }
        ))
    ));
}

/// Buses with dma-ranges: /soc (2→1 cells) maps bus 0x0.. to CPU 0x8000_0000
/// for 1 GiB; /soc/sub has empty dma-ranges (1:1); /soc/sub/dev; /soc/coh is
/// dma-coherent with a child that says dma-noncoherent.
fn dma_tree() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("soc")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("dma-ranges", &[0x0, 0x0, 0x8000_0000, 0x4000_0000]);
    b.begin("sub")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .flag("dma-ranges")
        .flag("dma-coherent");
    b.begin("dev@0").end();
    b.begin("quiet@1").flag("dma-noncoherent").end();
    b.end();
    b.begin("lim")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        // 2 GiB of bus space at 0x1000_0000, but the parent bus only covers
        // its first 0x3000_0000 bytes (child 0x1000_0000..0x4000_0000).
        .cells("dma-ranges", &[0x1000_0000, 0x1000_0000, 0x8000_0000]);
    b.begin("dev@0").end();
    b.end();
    b.end();
    b.begin("free").begin("dev@0").end().end();
    b.finish()
}

#[test]
fn dma_window_walks_up_and_translates() {
    let blob = dma_tree();
    with_tree(&blob, |tree| {
        let w = |p: &str| dma_window(tree.find_path(p).unwrap()).unwrap();
        // Empty dma-ranges on /soc/sub is 1:1; /soc's entry limits: bus
        // 0..1 GiB at CPU 0x8000_0000; mask covers 30 bits.
        let win = w("/soc/sub/dev@0").unwrap();
        assert_eq!(
            win,
            DmaWindow {
                base: 0,
                size: 0x4000_0000,
                cpu_base: 0x8000_0000
            }
        );
        assert_eq!(win.mask(), 0x3fff_ffff);
        // /soc/lim: 2 GiB at bus 0x1000_0000, clipped by /soc to the part
        // /soc maps (bus 0x1000_0000..0x4000_0000 → 0x3000_0000 bytes), at
        // CPU 0x8000_0000 + 0x1000_0000.
        assert_eq!(
            w("/soc/lim/dev@0"),
            Some(DmaWindow {
                base: 0x1000_0000,
                size: 0x3000_0000,
                cpu_base: 0x9000_0000
            })
        );
        // No dma-ranges anywhere above: no limit.
        assert_eq!(w("/free/dev@0"), None);
    });
}

#[test]
fn dma_coherent_is_inherited_and_overridable() {
    // of_dma_is_coherent: the nearest node that says either way decides.
    let blob = dma_tree();
    with_tree(&blob, |tree| {
        let c = |p: &str| is_coherent(tree.find_path(p).unwrap());
        assert!(c("/soc/sub/dev@0"));
        assert!(!c("/soc/sub/quiet@1"));
        assert!(!c("/soc/lim/dev@0"));
    });
}

#[test]
fn domains_follow_policy_and_span_all_instances_of_a_master() {
    let blob = soc();
    with_booted(&blob, |tree, table| {
        let mut d = vec![DomainInfo::EMPTY; 8];
        let mut per = vec![0; table.records().len()];
        let mut domains = DomainTable::new(&mut d, &mut per);
        let mut fw = FwSpec::<8, 4>::new();
        let mut run = |p: &str, domains: &mut DomainTable<'_>| {
            let node = tree.find_path(p).unwrap();
            match setup_master(node, &table, &mut fw, domains)
                .unwrap()
                .dma
                .ops
            {
                DmaOps::Iommu { domain, .. } => domain,
                other => panic!("{p} {other:?}"),
            }
        };
        // Arm SMMU driver is per-instance: gpu (on 1000) and multi (on 1000
        // then 7000) share 1000's domain, which is attached to both SMMUs.
        let gpu = run("/soc/gpu@a000", &mut domains);
        let multi = run("/soc/multi@11000", &mut domains);
        assert_eq!(gpu, multi);
        let smmu = |p: &str| tree.find_path(p).unwrap().id();
        let info = *domains.get(gpu).unwrap();
        assert_eq!(info.owner, DomainOwner::Instance(smmu("/soc/iommu@1000")));
        assert_eq!(
            info.attached(),
            &[smmu("/soc/iommu@1000"), smmu("/soc/iommu@7000")]
        );
        // SMMUv3 driver is per-device: its master gets its own domain.
        let dma = run("/soc/dma@b000", &mut domains);
        assert_ne!(dma, gpu);
        assert_eq!(
            domains.get(dma).unwrap().owner,
            DomainOwner::Device(tree.find_path("/soc/dma@b000").unwrap().id())
        );
        // Rockchip's aperture is 4 GiB: the IOVA window ends there.
        let node = tree.find_path("/soc/vop@c000").unwrap();
        let ops = setup_master(node, &table, &mut fw, &mut domains)
            .unwrap()
            .dma
            .ops;
        assert!(matches!(
            ops,
            DmaOps::Iommu {
                iova_last: 0xffff_ffff,
                ..
            }
        ));
        assert_eq!(domains.domains().len(), 3);
    });
}

static LINKED: Rockchip = Rockchip;

#[linkme::distributed_slice(IOMMU_DECLARATIONS)]
#[linkme(crate = iommugen_runtime::linkme)]
static LINKED_DECL: Declaration<'static> = Declaration {
    compatible: "acme,linked-iommu",
    driver: &LINKED,
};

#[test]
fn linker_section_table_is_searched_with_static_tables() {
    let mut b = TreeBuilder::new();
    b.begin("iommu@0")
        .strs("compatible", &["acme,linked-iommu"])
        .u32("#iommu-cells", 0)
        .end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let mut records = vec![IommuRecord::EMPTY; 4];
        let t = iommu_init(&tree, &[&IOMMU_DECLARATIONS, TABLE], &mut records).unwrap();
        assert!(matches!(
            t.records()[0].state,
            IommuState::Initialised { decl, .. } if decl.compatible == "acme,linked-iommu"
        ));
    });
}

#[test]
fn pci_host_dma_ranges_with_three_cell_addresses() {
    // Juno's PCIe dma-ranges (juno-base.dtsi): PCI addresses are 3 cells
    // (phys.hi flags + 64-bit address), sizes 2, parent addresses 2:
    //   0x2c1c_0000 + 0x4_0000, 0x8000_0000 + 0x8000_0000,
    //   0x8_8000_0000 + 0x2_0000_0000, all 1:1.
    // Window: 0x2c1c_0000 .. 0xa_8000_0000 (size 0xa_53e4_0000); the last
    // address 0xa_7fff_ffff needs 36 bits of mask.
    let mut b = TreeBuilder::new();
    b.begin("iommu@2b500000")
        .strs("compatible", &["arm,mmu-401", "arm,smmu-v1"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 1)
        .end();
    b.begin("pcie@40000000")
        .str("device_type", "pci")
        .u32("#address-cells", 3)
        .u32("#size-cells", 2)
        .cells(
            "dma-ranges",
            &[
                0x0200_0000,
                0x0,
                0x2c1c_0000,
                0x0,
                0x2c1c_0000,
                0x0,
                0x0004_0000, //
                0x0200_0000,
                0x0,
                0x8000_0000,
                0x0,
                0x8000_0000,
                0x0,
                0x8000_0000, //
                0x4300_0000,
                0x8,
                0x8000_0000,
                0x8,
                0x8000_0000,
                0x2,
                0x0000_0000,
            ],
        )
        .u32("iommu-map-mask", 0)
        .cells("iommu-map", &[0, 1, 0, 1])
        .flag("dma-coherent")
        .end();
    let blob = b.finish();
    with_booted(&blob, |tree, table| {
        let host = tree.find_path("/pcie@40000000").unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let mut d = vec![DomainInfo::EMPTY; 4];
        let mut per = vec![0; table.records().len()];
        let mut domains = DomainTable::new(&mut d, &mut per);
        let (s, mapped) = setup_pci(host, 0x0300, &table, &mut fw, &mut domains).unwrap();
        assert_eq!(mapped.map(|m| m.1), Some(0));
        assert!(s.dma.coherent);
        assert_eq!(
            s.dma.window,
            Some(DmaWindow {
                base: 0x2c1c_0000,
                size: 0xa_53e4_0000,
                cpu_base: 0x2c1c_0000
            })
        );
        assert_eq!(s.dma.mask, 0xf_ffff_ffff);
        assert!(matches!(
            s.dma.ops,
            DmaOps::Iommu {
                iova_base: 0x2c1c_0000,
                iova_last: 0xa_7fff_ffff,
                ..
            }
        ));
    });
}

#[test]
fn dma_ranges_translate_through_two_non_identity_levels() {
    // /a maps its bus 0..2 GiB to CPU 0x8000_0000; /a/b maps its bus
    // 0x1000_0000 (+512 MiB) to /a's 0x4000_0000, i.e. CPU 0xc000_0000.
    // /a/c maps 0x1000_0000 (+512 MiB) to /a's 0x7000_0000, of which /a
    // covers only 256 MiB (up to its 2 GiB): the window is clipped.
    let mut b = TreeBuilder::new();
    b.begin("a")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("dma-ranges", &[0x0, 0x0, 0x8000_0000, 0x8000_0000]);
    b.begin("b")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("dma-ranges", &[0x1000_0000, 0x4000_0000, 0x2000_0000]);
    b.begin("dev@0").end();
    b.end();
    b.begin("c")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("dma-ranges", &[0x1000_0000, 0x7000_0000, 0x2000_0000]);
    b.begin("dev@0").end();
    b.end();
    b.end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let w = |p: &str| dma_window(tree.find_path(p).unwrap()).unwrap();
        assert_eq!(
            w("/a/b/dev@0"),
            Some(DmaWindow {
                base: 0x1000_0000,
                size: 0x2000_0000,
                cpu_base: 0xc000_0000
            })
        );
        assert_eq!(
            w("/a/c/dev@0"),
            Some(DmaWindow {
                base: 0x1000_0000,
                size: 0x1000_0000,
                cpu_base: 0xf000_0000
            })
        );
    });
}

//! The generated drivers' `of_xlate` for masters of every kind: Renesas
//! IPMMU's allow-list and SoC deny list (drivers/iommu/ipmmu-vmsa.c's
//! ipmmu_device_is_allowed: devices_allowlist by dev_name, PCI always,
//! soc_denylist), and `master property` (specs/bits-zoo.iommu's
//! `master_prop`). Expected results are worked out by hand from Linux's
//! rules, not from our output.

use iommugen_example_build_script::generated::{
    bits_zoo::MasterProp,
    ipmmu_vmsa::{IpmmuRcarGen3, IpmmuRcarGen4, IpmmuVmsa},
};
use iommugen_runtime::decl::{DriverError, InstanceData, IommuDriver, SpecWord};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::master::{Master, Refusal};

/// The IDs `driver.of_xlate` gives for one specifier of `master`.
fn xlate_as(
    driver: &dyn IommuDriver,
    master: &Master<'_>,
    iommu: Node<'_>,
    args: &[u32],
) -> Result<Vec<u32>, DriverError> {
    let mut fwspec: FwSpec = FwSpec::new();
    let mut sink = fwspec.sink(iommu.id()).unwrap();
    driver.of_xlate(master, iommu, InstanceData(0), args, &mut sink)?;
    Ok(fwspec.ids_for(iommu.id()).collect())
}

/// A tree with a root `compatible` (the machine), one IOMMU and masters
/// with the given `iommugen,os-id` (none for `None`), for the
/// master-dependent drivers.
fn machine_blob(machine: &str, iommu: &str, os_ids: &[(&str, Option<u32>)]) -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_string("compatible", machine).unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    let n = w.begin_node("iommu@1000").unwrap();
    w.property_string("compatible", iommu).unwrap();
    w.property_u32("#iommu-cells", 1).unwrap();
    w.property_u32("iommugen,os-id", 0xf).unwrap();
    if iommu.starts_with("renesas,ipmmu-r8a") {
        // A cache IPMMU (the only kind masters use on Gen3/Gen4); its main
        // IPMMU's phandle is not read by of_xlate.
        w.property_array_u32("renesas,ipmmu-main", &[1, 0]).unwrap();
    }
    w.end_node(n).unwrap();
    for (name, os) in os_ids {
        let n = w.begin_node(name).unwrap();
        if let Some(os) = os {
            w.property_u32("iommugen,os-id", *os).unwrap();
        }
        w.end_node(n).unwrap();
    }
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

fn with_tree<R>(blob: &[u8], f: impl FnOnce(DeviceTree<'_>) -> R) -> R {
    let fdt = Fdt::new(blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    f(DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap())
}

/// ipmmu-vmsa.c's ipmmu_device_is_allowed on R-Car Gen3/Gen4: PCI
/// functions and the SDHI controllers of devices_allowlist attach; any
/// other platform device (SYS-DMAC0, "e6700000.dma-controller") is
/// refused before its uTLB is read; on an r8a7796 (soc_denylist) nothing
/// attaches; Gen2 lets every master attach.
#[test]
fn ipmmu_allow_list_and_deny_list() {
    for (machine, driver, denied) in [
        (
            "renesas,r8a77961",
            &IpmmuRcarGen3 as &dyn IommuDriver,
            false,
        ),
        ("renesas,r8a7796", &IpmmuRcarGen3, true),
        ("renesas,r8a779f0", &IpmmuRcarGen4, false),
    ] {
        let blob = machine_blob(machine, "renesas,ipmmu-r8a7796", &[]);
        with_tree(&blob, |t| {
            let iommu = t.find_path("/iommu@1000").unwrap();
            let sdhi = Master::platform(iommu, Some("ee160000.mmc"));
            let dmac = Master::platform(iommu, Some("e6700000.dma-controller"));
            let pci = Master::pci(iommu, 0x100, Some("0000:01:00.0"));
            let refused = |r| Err(DriverError::MasterRefused(r));
            let soc = Refusal::SocDenied {
                machine: "renesas,r8a7796",
                revision: None,
            };
            if denied {
                assert_eq!(xlate_as(driver, &sdhi, iommu, &[35]), refused(soc));
                assert_eq!(xlate_as(driver, &pci, iommu, &[0]), refused(soc));
            } else {
                assert_eq!(xlate_as(driver, &sdhi, iommu, &[35]), Ok(vec![35]));
                assert_eq!(xlate_as(driver, &pci, iommu, &[0]), Ok(vec![0]));
            }
            // Refused before the cell is read: even a uTLB past the count.
            let dmac_refusal = if denied { soc } else { Refusal::NotAllowed };
            assert_eq!(xlate_as(driver, &dmac, iommu, &[99]), refused(dmac_refusal));
            assert_eq!(
                xlate_as(driver, &Master::platform(iommu, None), iommu, &[1]),
                refused(dmac_refusal)
            );
            // Gen2 has no opt-in: every master attaches.
            assert_eq!(xlate_as(&IpmmuVmsa, &dmac, iommu, &[1]), Ok(vec![1]));
        });
    }
}

/// `master property`: the value comes from the master's node (not the
/// IOMMU's, whose `iommugen,os-id` is 0xf), its dropped bits dropped, its
/// unread bits refused; absent, or for a PCI function, the `else 0`.
#[test]
fn master_property_reads_the_masters_node() {
    let blob = machine_blob(
        "acme,board",
        "iommugen,bits-master-prop",
        &[
            ("a@1", Some(3)),
            ("b@2", Some(0x103)),
            ("c@3", Some(0x13)),
            ("d@4", None),
        ],
    );
    with_tree(&blob, |t| {
        let iommu = t.find_path("/iommu@1000").unwrap();
        let at = |p: &str| Master::platform(t.find_path(p).unwrap(), None);
        assert_eq!(
            xlate_as(&MasterProp, &at("/a@1"), iommu, &[5]),
            Ok(vec![0x3_0005])
        );
        // Bit 8 is declared dropped.
        assert_eq!(
            xlate_as(&MasterProp, &at("/b@2"), iommu, &[5]),
            Ok(vec![0x3_0005])
        );
        // Bit 4 is neither read nor dropped: refused, naming the word.
        assert_eq!(
            xlate_as(&MasterProp, &at("/c@3"), iommu, &[5]),
            Err(DriverError::UnreadBits {
                word: SpecWord::MasterProperty("iommugen,os-id"),
                bits: 0x10
            })
        );
        assert_eq!(xlate_as(&MasterProp, &at("/d@4"), iommu, &[5]), Ok(vec![5]));
        // A PCI function has no node of its own: its host's property is
        // not the function's.
        let host = t.find_path("/a@1").unwrap();
        let pci = Master::pci(host, 0x8, None);
        assert_eq!(xlate_as(&MasterProp, &pci, iommu, &[5]), Ok(vec![5]));
    });
}

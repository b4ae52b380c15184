//! Shared by the equivalence tests (this crate's, and the `iommugen dt`
//! interpreter's in the root crate): one IOMMU node to translate against,
//! the masters to translate for, and `of_xlate` into a fresh fwspec.
#![allow(dead_code)]

use iommugen_runtime::decl::{DriverError, InstanceData, IommuDriver};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::master::Master;

/// The name Linux gives R-Car's SDHI0, on every shipped allow-list
/// (ipmmu-vmsa.c's devices_allowlist), so a default master attaches.
pub const SDHI0: &str = "ee100000.mmc";

/// Masters of every kind for `iommu` (whose node stands in for theirs):
/// a platform master on the allow-lists, one on none, one without a name,
/// and a PCI function.
pub fn masters(iommu: Node<'_>) -> [Master<'_>; 4] {
    [
        Master::platform(iommu, Some(SDHI0)),
        Master::platform(iommu, Some("e6e88000.serial")),
        Master::platform(iommu, None),
        Master::pci(iommu, 0x100, Some("0000:01:00.0")),
    ]
}

/// Run `f` on `/iommu@1000` with `#iommu-cells = cells` and, when given,
/// a `stream-match-mask`. The node has Qualcomm-style context-bank
/// children (`child` statements): banks 1 (`reg` 0x1000) and 7 (`reg`
/// 0x3000, `qcom,ctx-asid = <7>`), and a disabled bank 2.
pub fn with_node<R>(cells: u32, mask: Option<u32>, f: impl FnOnce(Node<'_>) -> R) -> R {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    let n = w.begin_node("iommu@1000").unwrap();
    w.property_u32("#iommu-cells", cells).unwrap();
    if let Some(mask) = mask {
        w.property_u32("stream-match-mask", mask).unwrap();
    }
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    for (unit, compatible, asid, disabled) in [
        (0x1000u32, "qcom,msm-iommu-v1-ns", None, false),
        (0x2000, "qcom,msm-iommu-v1-ns", None, true),
        (0x3000, "qcom,msm-iommu-v1-sec", Some(7u32), false),
    ] {
        let c = w.begin_node(&format!("iommu-ctx@{unit:x}")).unwrap();
        w.property_string("compatible", compatible).unwrap();
        w.property_array_u32("reg", &[unit, 0x1000]).unwrap();
        if let Some(asid) = asid {
            w.property_u32("qcom,ctx-asid", asid).unwrap();
        }
        if disabled {
            w.property_string("status", "disabled").unwrap();
        }
        w.end_node(c).unwrap();
    }
    w.end_node(n).unwrap();
    w.end_node(root).unwrap();
    let blob = w.finish().unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    f(tree.find_path("/iommu@1000").unwrap())
}

/// The IDs `driver`'s `of_xlate` stores for `args`, for a platform master
/// named [`SDHI0`].
pub fn xlate(
    driver: &dyn IommuDriver,
    iommu: Node<'_>,
    args: &[u32],
) -> Result<Vec<u32>, DriverError> {
    xlate_as(driver, &Master::platform(iommu, Some(SDHI0)), iommu, args)
}

/// The IDs `driver`'s `of_xlate` stores for `args` of `master`.
pub fn xlate_as(
    driver: &dyn IommuDriver,
    master: &Master<'_>,
    iommu: Node<'_>,
    args: &[u32],
) -> Result<Vec<u32>, DriverError> {
    xlate_grouped(driver, master, iommu, args).map(|(ids, _)| ids)
}

/// [`xlate_as`], with the groups every stored ID satisfies (the mask the
/// boot flow picks the master's group from).
pub fn xlate_grouped(
    driver: &dyn IommuDriver,
    master: &Master<'_>,
    iommu: Node<'_>,
    args: &[u32],
) -> Result<(Vec<u32>, u32), DriverError> {
    let mut fwspec: FwSpec = FwSpec::new();
    let mut sink = fwspec.sink(iommu.id()).unwrap();
    driver.of_xlate(master, iommu, InstanceData(0), args, &mut sink)?;
    Ok((
        fwspec.ids_for(iommu.id()).collect(),
        fwspec.groups_for(iommu.id()),
    ))
}

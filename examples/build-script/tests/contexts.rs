//! The generated IPMMU drivers' translation contexts (`contexts N reserved
//! K` in examples/ipmmu-vmsa.iommu, from Linux's ipmmu_features_* tables):
//! a cache IPMMU draws on its main IPMMU's pool, a Gen2 IPMMU holds its own.

use iommugen_example_build_script::generated::ipmmu_vmsa::{
    IpmmuRcarGen3, IpmmuRcarGen4, IpmmuVmsa,
};
use iommugen_runtime::contexts::ContextPool;
use iommugen_runtime::decl::IommuDriver;
use iommugen_runtime::fdt::{DeviceTree, Fdt, NodeEntry, PhandleEntry};

/// `/iommu@1000` (main, phandle 1) and `/iommu@2000` (its cache), both
/// `compatible`.
fn blob(compatible: &str) -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    let n = w.begin_node("iommu@1000").unwrap();
    w.property_string("compatible", compatible).unwrap();
    w.property_u32("#iommu-cells", 1).unwrap();
    w.property_u32("phandle", 1).unwrap();
    w.end_node(n).unwrap();
    let n = w.begin_node("iommu@2000").unwrap();
    w.property_string("compatible", compatible).unwrap();
    w.property_u32("#iommu-cells", 1).unwrap();
    w.property_array_u32("renesas,ipmmu-main", &[1, 0]).unwrap();
    w.end_node(n).unwrap();
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

/// `driver.contexts` of the cache node, and the main node's id.
fn pool_of_cache(driver: &dyn IommuDriver, compatible: &str) -> (Option<ContextPool>, u32) {
    let blob = blob(compatible);
    let fdt = Fdt::new(&blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    let main = tree.find_path("/iommu@1000").unwrap();
    let cache = tree.find_path("/iommu@2000").unwrap();
    (driver.contexts(cache), main.id().0)
}

#[test]
fn each_generation_counts_linux_contexts() {
    // Gen3: 8, context 0 reserved, on the main IPMMU.
    let (pool, main) = pool_of_cache(&IpmmuRcarGen3, "renesas,ipmmu-r8a7795");
    let pool = pool.unwrap();
    assert_eq!((pool.host.0, pool.total, pool.reserved), (main, 8, 1));
    assert_eq!(pool.usable(), 7);
    // Gen4: 16, context 0 reserved.
    let (pool, main) = pool_of_cache(&IpmmuRcarGen4, "renesas,rcar-gen4-ipmmu-vmsa");
    let pool = pool.unwrap();
    assert_eq!((pool.host.0, pool.total, pool.reserved), (main, 16, 1));
    // Gen2: one context, none reserved, and no main IPMMU: the node
    // itself holds it (the property means nothing to this driver).
    let (pool, main) = pool_of_cache(&IpmmuVmsa, "renesas,ipmmu-vmsa");
    let pool = pool.unwrap();
    assert_eq!((pool.total, pool.reserved), (1, 0));
    assert_ne!(pool.host.0, main);
}

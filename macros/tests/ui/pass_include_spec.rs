use iommugen_runtime::decl::{DriverError, InstanceData};
use iommugen_runtime::fdt::Node;

fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
    Ok(InstanceData(node.id().0 as usize))
}

// ui.rs copies good.iommu next to the trybuild project's Cargo.toml.
iommugen_macros::include_spec!("good.iommu");

fn main() {
    assert_eq!(good::DECLARATIONS.len(), 2);
    assert_eq!(good::DECLARATIONS[0].compatible, "acme,iommu");
    assert_eq!(good::AcmeIommu::CELLS, [1]);
    // `extends`: the base's contract under the vendor's compatible.
    assert_eq!(good::DECLARATIONS[1].compatible, "acme,vendor-iommu");
    assert_eq!(good::AcmeVendorIommu::CELLS, [1]);
    assert_eq!(good::AcmeVendorIommu::COMPATIBLES, ["acme,vendor-iommu"]);
}

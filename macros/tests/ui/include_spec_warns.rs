// A spec warning surfaces as a compiler warning naming file:line; `deny`
// turns it into this error.
#![deny(deprecated)]

use iommugen_runtime::decl::{DriverError, InstanceData};
use iommugen_runtime::fdt::Node;

fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
    Ok(InstanceData(node.id().0 as usize))
}

iommugen_macros::include_spec!("warns.iommu");

fn main() {}

//! Which of its IOMMU driver's groups a master is in, by name, as the boot
//! flow chose it: the first instance whose driver has a group every ID the
//! master has there satisfies.

use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{IommuState, IommuTable};

pub(super) fn name<const IDS: usize, const IOMMUS: usize>(
    fw: &FwSpec<IDS, IOMMUS>,
    iommus: &IommuTable<'_, '_>,
) -> Option<String> {
    fw.iommus().iter().find_map(|&node| {
        let Some(IommuState::Initialised { decl, .. }) = iommus.get(node).map(|r| r.state) else {
            return None;
        };
        let mask = fw.groups_for(node);
        if mask == 0 {
            return None;
        }
        decl.driver
            .group(mask.trailing_zeros())
            .map(|g| g.name.to_owned())
    })
}

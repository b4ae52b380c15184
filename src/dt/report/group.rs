//! Which of its IOMMU driver's groups a master is in, by name, as the boot
//! flow chose it: the first instance whose driver has a group every ID the
//! master has there satisfies.

use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{IommuState, IommuTable};
use iommugen_runtime::ops::group_of;

pub(super) fn name<const IDS: usize, const IOMMUS: usize>(
    fw: &FwSpec<IDS, IOMMUS>,
    iommus: &IommuTable<'_, '_>,
) -> Option<String> {
    fw.iommus().iter().find_map(|&node| {
        let Some(IommuState::Initialised { decl, .. }) = iommus.get(node).map(|r| r.state) else {
            return None;
        };
        group_of(decl.driver, fw.groups_for(node)).map(|(_, g)| g.name.to_owned())
    })
}

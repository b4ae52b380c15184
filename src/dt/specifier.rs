//! Each `iommus` entry of a translated master beside the IDs its
//! `of_xlate` stored. The fwspec merges all entries naming one IOMMU, so
//! to show which specifier became which ID each entry is handed to the
//! same driver call again, alone, into a scratch fwspec. The fwspec the
//! boot flow filled stays the authority; this is for reading the report.

use iommugen_runtime::configure::iommus_entries;
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{IommuState, IommuTable};
use iommugen_runtime::master::{Master, NAME_LEN};

use super::report::{path_of, HOST_IDS};

/// One `<phandle cells...>` entry of a master's `iommus`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecifierEntry {
    /// The IOMMU's path.
    pub iommu: String,
    /// The specifier cells (`#iommu-cells` of them).
    pub cells: Vec<u32>,
    /// What `of_xlate` stored for this entry alone.
    pub ids: Vec<u32>,
}

/// The entries of `master`'s `iommus` (empty ones skipped). Stops at the
/// first entry that cannot be read; call it for masters that configured.
pub fn entries(master: Node<'_>, iommus: &IommuTable<'_, '_>) -> Vec<SpecifierEntry> {
    let Some(prop) = master.property("iommus") else {
        return Vec::new();
    };
    let Ok(read) = iommus_entries(master.tree(), prop) else {
        return Vec::new();
    };
    let mut name = [0u8; NAME_LEN];
    let named = iommugen_runtime::devname::platform_name(master, &mut name).ok();
    let who = Master::platform(master, named);
    read.map_while(Result::ok)
        .map(|e| {
            let cells: Vec<u32> = e.specifier.iter().collect();
            let ids = xlate_alone(&who, e.iommu, iommus, &cells);
            SpecifierEntry {
                iommu: path_of(e.iommu),
                cells,
                ids,
            }
        })
        .collect()
}

/// The IDs the owning driver stores for one specifier (none when the
/// IOMMU is not initialised or the driver refuses it).
pub fn xlate_alone(
    master: &Master<'_>,
    iommu: Node<'_>,
    iommus: &IommuTable<'_, '_>,
    cells: &[u32],
) -> Vec<u32> {
    let Some(IommuState::Initialised { decl, data }) = iommus.get(iommu.id()).map(|r| r.state)
    else {
        return vec![];
    };
    let mut fw = FwSpec::<HOST_IDS, 1>::new();
    let Ok(mut sink) = fw.sink(iommu.id()) else {
        return vec![];
    };
    if decl
        .driver
        .of_xlate(master, iommu, data, cells, &mut sink)
        .is_err()
    {
        return vec![];
    }
    fw.ids_for(iommu.id()).collect()
}

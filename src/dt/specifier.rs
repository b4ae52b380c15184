//! Each `iommus` entry of a translated master beside the IDs its
//! `of_xlate` stored. The fwspec merges all entries naming one IOMMU, so
//! to show which specifier became which ID each entry is handed to the
//! same driver call again, alone, into a scratch fwspec. The fwspec the
//! boot flow filled stays the authority; this is for reading the report.

use iommugen_runtime::configure::MAX_SPECIFIER_CELLS;
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{IommuState, IommuTable};

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
    let mut out = Vec::new();
    let Some(mut rest) = master.property("iommus").and_then(|p| p.cells()) else {
        return out;
    };
    let tree = master.tree();
    while let Some(phandle) = rest.get(0) {
        let Some((_, after)) = rest.split(1) else {
            break;
        };
        rest = after;
        if phandle == 0 {
            continue;
        }
        let Ok(iommu) = tree.by_phandle(phandle) else {
            break;
        };
        let Some(count) = iommu
            .u32_property("#iommu-cells")
            .filter(|&n| n <= MAX_SPECIFIER_CELLS)
        else {
            break;
        };
        let Some((spec, after)) = rest.split(count as usize) else {
            break;
        };
        rest = after;
        let cells: Vec<u32> = spec.iter().collect();
        let ids = xlate_alone(iommu, iommus, &cells);
        out.push(SpecifierEntry {
            iommu: path_of(iommu),
            cells,
            ids,
        });
    }
    out
}

/// The IDs the owning driver stores for one specifier (none when the
/// IOMMU is not initialised or the driver refuses it).
pub fn xlate_alone(iommu: Node<'_>, iommus: &IommuTable<'_, '_>, cells: &[u32]) -> Vec<u32> {
    let Some(IommuState::Initialised { decl, data }) = iommus.get(iommu.id()).map(|r| r.state)
    else {
        return vec![];
    };
    let mut fw = FwSpec::<HOST_IDS, 1>::new();
    let Ok(mut sink) = fw.sink(iommu.id()) else {
        return vec![];
    };
    if decl.driver.of_xlate(iommu, data, cells, &mut sink).is_err() {
        return vec![];
    }
    fw.ids_for(iommu.id()).collect()
}

//! Seed step (2): `iommu_init`. Walk every node; for each IOMMU node, call
//! the claiming driver's early-init hook and keep its per-instance data
//! against the node (the seed's `of_iommu_set_data`; [`IommuTable::get`] is
//! `of_iommu_get_data`).

use crate::decl::{match_node, Declaration, DriverError};
use crate::fdt::{DeviceTree, Node, NodeId};

/// What became of one IOMMU node.
#[derive(Clone, Copy, Debug)]
pub enum IommuState<'d> {
    /// The hook succeeded.
    Initialised {
        decl: &'d Declaration<'d>,
        data: crate::decl::InstanceData,
    },
    /// The hook failed; the node's masters cannot be translated.
    Failed {
        decl: &'d Declaration<'d>,
        error: DriverError,
    },
    /// `status` is not okay; masters behind it run untranslated.
    Disabled { decl: Option<&'d Declaration<'d>> },
    /// It has `#iommu-cells` but no registered driver claims it.
    Unclaimed,
}

/// One IOMMU node and its state.
#[derive(Clone, Copy, Debug)]
pub struct IommuRecord<'d> {
    pub node: NodeId,
    pub state: IommuState<'d>,
}

impl IommuRecord<'_> {
    pub const EMPTY: IommuRecord<'static> = IommuRecord {
        node: NodeId(0),
        state: IommuState::Unclaimed,
    };
}

/// More IOMMU nodes than the storage given to [`iommu_init`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyIommus {
    pub capacity: usize,
}

impl core::fmt::Display for TooManyIommus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "more than {} IOMMU nodes (storage full)", self.capacity)
    }
}

/// Every IOMMU node of a tree, in document order.
#[derive(Clone, Copy, Debug)]
pub struct IommuTable<'s, 'd> {
    records: &'s [IommuRecord<'d>],
}

impl<'s, 'd> IommuTable<'s, 'd> {
    pub fn records(&self) -> &'s [IommuRecord<'d>] {
        self.records
    }

    /// The record of `node`, if it is an IOMMU node (binary search: records
    /// are in document order).
    pub fn get(&self, node: NodeId) -> Option<&'s IommuRecord<'d>> {
        self.index_of(node).map(|i| &self.records[i])
    }

    /// The seed's `of_iommu_get_data`: the per-instance data the driver's
    /// hook returned for `node`, when it initialised.
    pub fn data(&self, node: NodeId) -> Option<crate::decl::InstanceData> {
        match self.get(node)?.state {
            IommuState::Initialised { data, .. } => Some(data),
            _ => None,
        }
    }

    /// The position of `node`'s record, for per-instance side tables.
    pub fn index_of(&self, node: NodeId) -> Option<usize> {
        self.records.binary_search_by_key(&node, |r| r.node).ok()
    }
}

/// Whether `node` is an IOMMU: it declares `#iommu-cells` (the binding's
/// marker) or a registered driver claims it.
fn is_iommu_node<'d>(
    tables: &[&'d [Declaration<'d>]],
    node: Node<'_>,
) -> (bool, Option<&'d Declaration<'d>>) {
    let decl = match_node(tables, node);
    (decl.is_some() || node.has_property("#iommu-cells"), decl)
}

/// Initialise every IOMMU node of `tree` with the drivers of `tables`.
///
/// A failing hook is recorded for its node and the others still initialise.
/// Only running out of `storage` stops the walk.
pub fn iommu_init<'s, 'd>(
    tree: &DeviceTree<'_>,
    tables: &[&'d [Declaration<'d>]],
    storage: &'s mut [IommuRecord<'d>],
) -> Result<IommuTable<'s, 'd>, TooManyIommus> {
    let mut n = 0;
    for node in tree.nodes() {
        let (is_iommu, decl) = is_iommu_node(tables, node);
        if !is_iommu {
            continue;
        }
        let state = match decl {
            _ if !node.is_available() => IommuState::Disabled { decl },
            None => IommuState::Unclaimed,
            Some(decl) => match decl.driver.init(node) {
                Ok(data) => IommuState::Initialised { decl, data },
                Err(error) => IommuState::Failed { decl, error },
            },
        };
        let slot = storage.get_mut(n).ok_or(TooManyIommus { capacity: n })?;
        *slot = IommuRecord {
            node: node.id(),
            state,
        };
        n += 1;
    }
    Ok(IommuTable {
        records: &storage[..n],
    })
}

/// Step (2) again for the IOMMUs that did not come up: each record of
/// `storage[..len]` (what [`iommu_init`] filled) that is unclaimed or whose
/// hook failed runs the hook of the driver `tables` now name for it, as
/// Linux probes a late-registered driver or retries a failed probe. Nodes
/// that initialised or are disabled keep their state (a hook runs once per
/// instance), and no record is added or moved, so per-instance side tables
/// indexed by [`IommuTable::index_of`] stay valid.
pub fn iommu_retry<'s, 'd>(
    tree: &DeviceTree<'_>,
    tables: &[&'d [Declaration<'d>]],
    storage: &'s mut [IommuRecord<'d>],
    len: usize,
) -> IommuTable<'s, 'd> {
    let len = len.min(storage.len());
    for record in &mut storage[..len] {
        if !matches!(
            record.state,
            IommuState::Unclaimed | IommuState::Failed { .. }
        ) {
            continue;
        }
        let Some(node) = tree.node(record.node) else {
            continue;
        };
        if let Some(decl) = match_node(tables, node) {
            record.state = match decl.driver.init(node) {
                Ok(data) => IommuState::Initialised { decl, data },
                Err(error) => IommuState::Failed { decl, error },
            };
        }
    }
    IommuTable {
        records: &storage[..len],
    }
}

//! The per-device mapping (Linux's `iommu_fwspec`, the seed's
//! `iommu_dma_mapping`): which IOMMU instances a master sits behind and the
//! IDs each one knows it by. Fixed capacity; overflow is an error.

use crate::fdt::NodeId;
use crate::probe::ProbeView;

/// The fwspec has no room left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwSpecFull {
    /// More IDs than `IDS`.
    Ids { capacity: usize },
    /// More IOMMU instances than `IOMMUS`.
    Iommus { capacity: usize },
}

impl core::fmt::Display for FwSpecFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FwSpecFull::Ids { capacity } => write!(f, "more than {capacity} IDs for one master"),
            FwSpecFull::Iommus { capacity } => {
                write!(f, "master behind more than {capacity} IOMMUs")
            }
        }
    }
}

/// IDs a default [`FwSpec`] holds.
pub const DEFAULT_IDS: usize = 32;
/// IOMMU instances a default [`FwSpec`] holds.
pub const DEFAULT_IOMMUS: usize = 4;

/// A master's IOMMU instances and IDs: up to `IOMMUS` instances and `IDS`
/// IDs in all.
#[derive(Clone, Debug)]
pub struct FwSpec<const IDS: usize = DEFAULT_IDS, const IOMMUS: usize = DEFAULT_IOMMUS> {
    iommus: [NodeId; IOMMUS],
    n_iommus: usize,
    ids: [u32; IDS],
    owner: [u8; IDS],
    /// Per ID, the driver's groups it satisfies (bit `g`: group `g`).
    groups: [u32; IDS],
    n_ids: usize,
}

impl<const IDS: usize, const IOMMUS: usize> Default for FwSpec<IDS, IOMMUS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const IDS: usize, const IOMMUS: usize> FwSpec<IDS, IOMMUS> {
    pub const fn new() -> Self {
        Self {
            iommus: [NodeId(0); IOMMUS],
            n_iommus: 0,
            ids: [0; IDS],
            owner: [0; IDS],
            groups: [0; IDS],
            n_ids: 0,
        }
    }

    pub fn clear(&mut self) {
        self.n_iommus = 0;
        self.n_ids = 0;
    }

    pub fn is_empty(&self) -> bool {
        self.n_iommus == 0
    }

    /// The IOMMU instances, in the order the master first named them.
    pub fn iommus(&self) -> &[NodeId] {
        &self.iommus[..self.n_iommus]
    }

    /// Every ID, in insertion order, with its instance.
    pub fn all_ids(&self) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        self.ids[..self.n_ids]
            .iter()
            .zip(&self.owner[..self.n_ids])
            .map(|(&id, &o)| (self.iommus[o as usize], id))
    }

    /// The IDs `iommu` knows the master by, in insertion order.
    pub fn ids_for(&self, iommu: NodeId) -> impl Iterator<Item = u32> + '_ {
        self.all_ids()
            .filter(move |&(n, _)| n == iommu)
            .map(|(_, id)| id)
    }

    /// What a driver's probe step sees: the instances `mine` accepts
    /// (the driver's own) and their IDs ([`crate::probe`]).
    pub fn probe_view<'a>(&'a self, mine: &'a dyn Fn(NodeId) -> bool) -> ProbeView<'a> {
        ProbeView {
            iommus: self.iommus(),
            ids: &self.ids[..self.n_ids],
            owner: &self.owner[..self.n_ids],
            mine,
        }
    }

    /// The groups every ID `iommu` knows the master by satisfies (bit `g`:
    /// the driver's group `g`); all ones when it has no ID.
    pub fn groups_for(&self, iommu: NodeId) -> u32 {
        let Some(slot) = self.iommus().iter().position(|&n| n == iommu) else {
            return u32::MAX;
        };
        self.owner[..self.n_ids]
            .iter()
            .zip(&self.groups[..self.n_ids])
            .filter(|&(&o, _)| o as usize == slot)
            .fold(u32::MAX, |acc, (_, &g)| acc & g)
    }

    /// An [`IdSink`] adding to `iommu`'s slot (created on first use).
    pub fn sink(&mut self, iommu: NodeId) -> Result<IdSink<'_>, FwSpecFull> {
        let slot = match self.iommus().iter().position(|&n| n == iommu) {
            Some(i) => i,
            None => {
                if self.n_iommus >= IOMMUS || IOMMUS > u8::MAX as usize + 1 {
                    return Err(FwSpecFull::Iommus { capacity: IOMMUS });
                }
                self.iommus[self.n_iommus] = iommu;
                self.n_iommus += 1;
                self.n_iommus - 1
            }
        };
        Ok(IdSink {
            ids: &mut self.ids,
            owner: &mut self.owner,
            groups: &mut self.groups,
            len: &mut self.n_ids,
            slot: slot as u8,
            pushed: 0,
        })
    }
}

/// Where a driver's `of_xlate` puts the IDs of one specifier.
pub struct IdSink<'f> {
    ids: &'f mut [u32],
    owner: &'f mut [u8],
    groups: &'f mut [u32],
    len: &'f mut usize,
    slot: u8,
    pushed: usize,
}

impl IdSink<'_> {
    /// Add one ID. Repeats are kept, as Linux's `iommu_fwspec_add_ids` does.
    pub fn push(&mut self, id: u32) -> Result<(), FwSpecFull> {
        self.push_in(id, 0)
    }

    /// Add one ID that satisfies the driver's groups `groups` (bit `g`:
    /// group `g`, see [`DriverInfo`](crate::decl::IommuDriver::group)).
    pub fn push_in(&mut self, id: u32, groups: u32) -> Result<(), FwSpecFull> {
        let n = *self.len;
        if n >= self.ids.len() {
            return Err(FwSpecFull::Ids {
                capacity: self.ids.len(),
            });
        }
        self.ids[n] = id;
        self.owner[n] = self.slot;
        self.groups[n] = groups;
        *self.len = n + 1;
        self.pushed += 1;
        Ok(())
    }

    /// IDs added through this sink so far.
    pub fn pushed(&self) -> usize {
        self.pushed
    }
}

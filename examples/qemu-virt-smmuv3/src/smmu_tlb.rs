//! The page-table engine's maintenance contract (`TlbOps`) carried out with
//! the SMMUv3's command queue: TLBI_NH_VA for leaves and walks, CMD_SYNC.
//!
//! Integration point: this adapter is generic over nothing kernel-specific
//! and belongs in the runtime next to `smmuv3` once `pgtable` is committed.

use core::cell::{Cell, RefCell};

use iommugen_runtime::pgtable::TlbOps;
use iommugen_runtime::smmuv3::cd::Granule;
use iommugen_runtime::smmuv3::{Error, Mmio, Smmuv3};

pub struct SmmuTlb<'s> {
    smmu: &'s RefCell<Smmuv3<'static, Mmio>>,
    asid: u16,
    /// The first failure (TlbOps cannot return one); checked after each call.
    pub failed: Cell<Option<Error>>,
    /// TLBI batches and syncs issued, for the log.
    pub invalidations: Cell<u32>,
    pub syncs: Cell<u32>,
}

impl<'s> SmmuTlb<'s> {
    pub fn new(smmu: &'s RefCell<Smmuv3<'static, Mmio>>, asid: u16) -> SmmuTlb<'s> {
        SmmuTlb {
            smmu,
            asid,
            failed: Cell::new(None),
            invalidations: Cell::new(0),
            syncs: Cell::new(0),
        }
    }

    fn record(&self, r: Result<(), Error>) {
        if let Err(e) = r {
            if self.failed.get().is_none() {
                self.failed.set(Some(e));
            }
        }
    }

    fn queue(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        self.invalidations.set(self.invalidations.get() + 1);
        let r = match self.smmu.try_borrow_mut() {
            Ok(mut smmu) => {
                smmu.queue_invalidate_range(self.asid, iova, size, Granule::G4K, granule, leaf)
            }
            Err(_) => Err(Error::Unsupported("re-entrant TLB maintenance")),
        };
        self.record(r);
    }
}

impl TlbOps for SmmuTlb<'_> {
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        self.queue(iova, size, granule, leaf);
    }

    fn inv_walk(&self, iova: u64, size: u64, granule: u64) {
        self.queue(iova, size, granule, false);
    }

    fn sync(&self) {
        self.syncs.set(self.syncs.get() + 1);
        let r = match self.smmu.try_borrow_mut() {
            Ok(mut smmu) => smmu.sync(),
            Err(_) => Err(Error::Unsupported("re-entrant TLB maintenance")),
        };
        self.record(r);
    }
}

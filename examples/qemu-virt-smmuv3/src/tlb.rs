//! The TLB maintenance the domain's page table uses: the runtime's
//! `smmuv3::SmmuTlb`, or, built with the feature `forget-tlb-invalidation`,
//! the same without any invalidation (syncs still happen).
//!
//! The feature is a mutation test of the checks themselves: QEMU's SMMUv3
//! caches translations in its IOTLB, so a kernel that forgets TLBI after an
//! unmap still reaches the old page, and the isolation checks must catch it
//! (`tests/qemu_smmuv3.rs` boots both builds).

use iommugen_runtime::pgtable::TlbOps;

use crate::checks::SmmuTlb;

pub const FORGET_INVALIDATION: bool = cfg!(feature = "forget-tlb-invalidation");

pub struct Maintenance<'s>(pub &'s SmmuTlb<'s>);

impl TlbOps for Maintenance<'_> {
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        if !FORGET_INVALIDATION {
            self.0.inv_range(iova, size, granule, leaf);
        }
    }

    fn inv_walk(&self, iova: u64, size: u64, granule: u64) {
        if !FORGET_INVALIDATION {
            self.0.inv_walk(iova, size, granule);
        }
    }

    fn sync(&self) {
        self.0.sync();
    }

    fn clean(&self, first: *const u8, bytes: usize) {
        self.0.clean(first, bytes);
    }
}

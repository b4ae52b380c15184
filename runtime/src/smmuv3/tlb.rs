//! The page-table engine's maintenance contract ([`TlbOps`]) carried out
//! with an SMMUv3's command queue: TLBI_NH_VA (leaf, or leaf and walk
//! entries) for one ASID, and CMD_SYNC.
//!
//! `TlbOps` methods take `&self` and cannot fail, while the driver needs
//! `&mut` and reports errors: the SMMU sits in a `RefCell` and the first
//! failure is kept for the caller to collect with [`SmmuTlb::take_error`]
//! after each map or unmap.

use core::cell::{Cell, RefCell};

use super::cd::Granule;
use super::driver::{Error, Smmuv3};
use super::mmio::RegisterIo;
use crate::pgtable::TlbOps;

/// TLB maintenance for one domain (one ASID) on one SMMU.
pub struct SmmuTlb<'s, 'm, R: RegisterIo> {
    smmu: &'s RefCell<Smmuv3<'m, R>>,
    asid: u16,
    granule: Granule,
    failed: Cell<Option<Error>>,
    invalidations: Cell<u32>,
    syncs: Cell<u32>,
}

impl<'s, 'm, R: RegisterIo> SmmuTlb<'s, 'm, R> {
    /// `granule` is the page-table format's granule (the TLBI range unit).
    pub fn new(smmu: &'s RefCell<Smmuv3<'m, R>>, asid: u16, granule: Granule) -> Self {
        SmmuTlb {
            smmu,
            asid,
            granule,
            failed: Cell::new(None),
            invalidations: Cell::new(0),
            syncs: Cell::new(0),
        }
    }

    /// The first error since the last call, if any.
    pub fn take_error(&self) -> Option<Error> {
        self.failed.take()
    }
    /// Invalidation requests (`inv_range` + `inv_walk`) so far.
    pub fn invalidations(&self) -> u32 {
        self.invalidations.get()
    }
    /// Completed `sync` requests so far.
    pub fn syncs(&self) -> u32 {
        self.syncs.get()
    }

    fn with_smmu(&self, f: impl FnOnce(&mut Smmuv3<'m, R>) -> Result<(), Error>) {
        let r = match self.smmu.try_borrow_mut() {
            Ok(mut smmu) => f(&mut smmu),
            // The SMMU is borrowed by our caller: maintenance cannot run.
            Err(_) => Err(Error::Unsupported("re-entrant TLB maintenance")),
        };
        if let Err(e) = r {
            if self.failed.get().is_none() {
                self.failed.set(Some(e));
            }
        }
    }

    fn queue(&self, iova: u64, size: u64, stride: u64, leaf: bool) {
        self.invalidations.set(self.invalidations.get() + 1);
        let (asid, granule) = (self.asid, self.granule);
        self.with_smmu(|s| s.queue_invalidate_range(asid, iova, size, granule, stride, leaf));
    }
}

impl<R: RegisterIo> TlbOps for SmmuTlb<'_, '_, R> {
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        self.queue(iova, size, granule, leaf);
    }

    fn inv_walk(&self, iova: u64, size: u64, granule: u64) {
        self.queue(iova, size, granule, false);
    }

    fn sync(&self) {
        self.syncs.set(self.syncs.get() + 1);
        self.with_smmu(|s| s.sync());
    }

    /// Only called for formats without a coherent walk: the SMMU reads
    /// descriptors from memory, so clean them out of the CPU's caches.
    fn clean(&self, first: *const u8, bytes: usize) {
        super::cache::clean(first, bytes);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::boxed::Box;
    use std::vec::Vec;

    use super::*;
    use crate::pgtable::lpae::S1G4K48;
    use crate::pgtable::{PageTable, StaticPool, Table4K};
    use crate::smmuv3::cmd::{Command, TlbiRange};
    use crate::smmuv3::driver::tests_support::enabled_fake;
    use crate::smmuv3::fake::FakeSmmu;
    use crate::Prot;

    fn commands(smmu: &RefCell<Smmuv3<'static, FakeSmmu>>) -> Vec<Command> {
        smmu.borrow()
            .registers()
            .seen
            .iter()
            .map(|s| s.command)
            .collect()
    }

    #[test]
    fn invalidations_are_queued_and_synced_for_the_asid() {
        let smmu = RefCell::new(enabled_fake());
        let tlb = SmmuTlb::new(&smmu, 7, Granule::G4K);
        let before = commands(&smmu).len();
        tlb.inv_range(0x20_0000, 0x2000, 0x1000, true);
        tlb.inv_walk(0x4000_0000, 0x20_0000, 0x1000);
        tlb.sync();
        assert_eq!(tlb.take_error(), None);
        let cmds = &commands(&smmu)[before..];
        // Two pages = 2^1: one chunk (NUM = 0, SCALE = 1); the walk: 512
        // pages = 2^9, one chunk, not a leaf; then the sync.
        assert_eq!(
            cmds,
            [
                Command::TlbiNhVa {
                    vmid: 0,
                    asid: 7,
                    addr: 0x20_0000,
                    leaf: true,
                    range: Some(TlbiRange {
                        granule: Granule::G4K,
                        scale: 1,
                        num: 0
                    }),
                },
                Command::TlbiNhVa {
                    vmid: 0,
                    asid: 7,
                    addr: 0x4000_0000,
                    leaf: false,
                    range: Some(TlbiRange {
                        granule: Granule::G4K,
                        scale: 9,
                        num: 0
                    }),
                },
                Command::Sync,
            ]
        );
        assert_eq!((tlb.invalidations(), tlb.syncs()), (2, 1));
    }

    #[test]
    fn a_busy_smmu_is_reported_not_ignored() {
        let smmu = RefCell::new(enabled_fake());
        let tlb = SmmuTlb::new(&smmu, 1, Granule::G4K);
        let guard = smmu.borrow();
        tlb.sync();
        drop(guard);
        assert_eq!(
            tlb.take_error(),
            Some(Error::Unsupported("re-entrant TLB maintenance"))
        );
        assert_eq!(tlb.take_error(), None);
    }

    #[test]
    fn splitting_a_block_in_the_engine_invalidates_it_before_reuse() {
        let smmu = RefCell::new(enabled_fake());
        let tlb = SmmuTlb::new(&smmu, 3, Granule::G4K);
        let pool: &'static StaticPool<Table4K, 8> = Box::leak(Box::new(StaticPool::new()));
        let pt: PageTable<S1G4K48, _, _> = PageTable::new(pool, &tlb).unwrap();
        let rw = Prot::READ | Prot::WRITE | Prot::CACHE;
        pt.map(0x4000_0000, 0x8000_0000, 0x20_0000, rw).unwrap();
        let before = commands(&smmu).len();
        // Unmapping one page inside the 2 MiB block splits it.
        assert_eq!(pt.unmap(0x4010_0000, 0x1000), 0x1000);
        assert_eq!(tlb.take_error(), None);
        let cmds = &commands(&smmu)[before..];
        // Some TLBI_NH_VA of ASID 3 covers the page, and a sync follows the
        // last invalidation.
        let covers = |c: &Command| match *c {
            Command::TlbiNhVa {
                asid: 3,
                addr,
                range: Some(r),
                ..
            } => addr <= 0x4010_0000 && 0x4010_0000 < addr + (r.pages() << 12),
            Command::TlbiNhVa {
                asid: 3,
                addr,
                range: None,
                ..
            } => addr == 0x4010_0000,
            _ => false,
        };
        let last_tlbi = cmds
            .iter()
            .rposition(|c| matches!(c, Command::TlbiNhVa { .. }));
        assert!(cmds.iter().any(covers), "{cmds:?}");
        assert!(
            last_tlbi.is_some_and(|i| cmds[i..].contains(&Command::Sync)),
            "{cmds:?}"
        );
        // The engine's view agrees: the hole is gone, its neighbours stay.
        assert_eq!(pt.iova_to_phys(0x4010_0000), None);
        assert_eq!(pt.iova_to_phys(0x4010_1000), Some(0x8010_1000));
        assert_eq!(pt.iova_to_phys(0x400f_f000), Some(0x800f_f000));
    }
}

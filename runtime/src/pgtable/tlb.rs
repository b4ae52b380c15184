//! The maintenance contract between the engine and the driver: TLB and
//! walk-cache invalidation, completion, and cache cleaning of descriptors
//! for walkers that do not snoop CPU caches.

/// TLB and cache maintenance the driver implements (e.g. SMMUv3 commands
/// `CMD_TLBI_NH_VA` / `CMD_TLBI_S2_IPA` and `CMD_SYNC`).
///
/// The engine calls, per `map`/`unmap` call: at most one `inv_range` for all
/// leaves it removed, one `inv_walk` per table it unlinked, then one `sync`
/// before any unlinked table goes back to the pool. Break-before-make
/// (splitting a block) issues its own `inv_range` + `sync` before the new
/// table is written. `map` into empty entries needs no invalidation.
pub trait TlbOps {
    /// Invalidate leaf entries for `[iova, iova + size)`; `granule` is the
    /// smallest leaf size that may be cached there (a hint for range
    /// invalidation). `leaf` is false when walk-cache entries for the range
    /// must go too.
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool);
    /// Invalidate walk-cache entries of a table mapping `[iova, iova + size)`
    /// that was unlinked (and any leaves below it).
    fn inv_walk(&self, iova: u64, size: u64, granule: u64);
    /// Wait until all invalidations issued so far have completed.
    fn sync(&self);
    /// Clean `bytes` of descriptors starting at `first` to the point of
    /// coherency. Called once per contiguous run written, and only for
    /// formats whose `COHERENT_WALK` is false. In bytes because entries are
    /// 4 or 8 bytes wide depending on the format.
    fn clean(&self, first: *const u8, bytes: usize) {
        let _ = (first, bytes);
    }
}

/// No maintenance (tests, benchmarks, or a walker with no TLB).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTlb;

impl TlbOps for NoTlb {
    #[inline(always)]
    fn inv_range(&self, _: u64, _: u64, _: u64, _: bool) {}
    #[inline(always)]
    fn inv_walk(&self, _: u64, _: u64, _: u64) {}
    #[inline(always)]
    fn sync(&self) {}
}

impl<T: TlbOps> TlbOps for &T {
    #[inline(always)]
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        (**self).inv_range(iova, size, granule, leaf)
    }
    #[inline(always)]
    fn inv_walk(&self, iova: u64, size: u64, granule: u64) {
        (**self).inv_walk(iova, size, granule)
    }
    #[inline(always)]
    fn sync(&self) {
        (**self).sync()
    }
    #[inline(always)]
    fn clean(&self, first: *const u8, bytes: usize) {
        (**self).clean(first, bytes)
    }
}

/// Tables unlinked but not yet freed: they go back to the pool only after
/// the walk-cache invalidation has been synced.
pub(crate) const PENDING: usize = 16;

/// What one `unmap` call must invalidate, gathered so it is issued once.
pub(crate) struct Gather {
    /// Leaf range `[start, end)`; empty when `start >= end`.
    pub start: u64,
    pub end: u64,
    /// Smallest leaf size removed.
    pub granule: u64,
    pub pending: [u64; PENDING],
    pub npending: usize,
}

impl Gather {
    pub const fn new() -> Self {
        Gather {
            start: u64::MAX,
            end: 0,
            granule: u64::MAX,
            pending: [0; PENDING],
            npending: 0,
        }
    }

    #[inline(always)]
    pub fn add_leaf(&mut self, iova: u64, size: u64, leaf_size: u64) {
        self.start = self.start.min(iova);
        self.end = self.end.max(iova + size);
        self.granule = self.granule.min(leaf_size);
    }
}

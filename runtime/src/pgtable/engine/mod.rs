//! The page table, its walks, live words, retirement and lookup; `map`
//! and `unmap` live in the submodules. Loops over levels run from
//! the format's constant start level, so the compiler unrolls them.
//!
//! Every algorithm exists in two modes chosen at compile time by `S`:
//! shared (`&self`: atomic read-modify-writes, compare-and-swap installs,
//! re-validation after reserving) and exclusive (`&mut self`: the same
//! tables and counters with plain loads and stores).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering::*};

use super::format::{Derived, Desc, Format};
use super::pool::{TablePool, COUNT_MASK, DEAD};
use super::tlb::{Gather, TlbOps, PENDING};
use super::MapError;
use hint::Hint;

pub use handle::Handle;

#[cfg(test)]
mod contig_tests;
#[cfg(test)]
mod fast_tests;
mod handle;
#[cfg(test)]
mod handle_tests;
mod hint;
mod map;
#[cfg(test)]
mod reserve_tests;
mod unmap;

/// Tables on the way from the root to the current level, by level.
type Path = [u64; 4];

/// A translation table of format `F`, with tables from pool `P` and TLB
/// maintenance by `T`.
pub struct PageTable<F: Format, P: TablePool, T: TlbOps> {
    root: u64,
    root_ptr: *const F::Desc,
    pool: P,
    tlb: T,
    hint: Hint,
    /// Tables unlinked so far (by either mode), counted before they are
    /// freed; see `reserve`.
    retired: AtomicU64,
    _format: PhantomData<F>,
}

// SAFETY: `root_ptr` points into pool memory shared by design; every shared
// access to table memory is atomic. The pool and TLB handle must themselves
// be shareable.
unsafe impl<F: Format, P: TablePool + Sync, T: TlbOps + Sync> Sync for PageTable<F, P, T> {}
// SAFETY: as above; nothing is tied to the creating thread.
unsafe impl<F: Format, P: TablePool + Send, T: TlbOps + Send> Send for PageTable<F, P, T> {}

impl<F: Format, P: TablePool, T: TlbOps> Drop for PageTable<F, P, T> {
    /// Unmaps everything (so all tables go back), then frees the root.
    fn drop(&mut self) {
        let top = 1u64 << F::IAS;
        self.unmap_mut(0, top);
        self.pool.free(self.root, Derived::<F>::ROOT_ORDER);
    }
}

#[inline(always)]
fn entry<'a, D: Desc>(table: *const D, idx: usize) -> &'a D {
    // SAFETY: callers pass a pointer from the pool (or the root) for a table
    // at some level and an index from `Derived::index` for that level, or
    // below `Derived::entries(level)`; pool memory outlives the table.
    unsafe { &*table.add(idx) }
}

/// Add `n` to a live word: atomically when shared.
#[inline(always)]
fn live_add<const S: bool>(live: &AtomicU64, n: u64) {
    if S {
        live.fetch_add(n, Relaxed);
    } else {
        live.store(live.load(Relaxed) + n, Relaxed);
    }
}

/// Subtract `n` from a live word; returns the old value.
#[inline(always)]
fn live_sub<const S: bool>(live: &AtomicU64, n: u64) -> u64 {
    if S {
        live.fetch_sub(n, AcqRel)
    } else {
        let old = live.load(Relaxed);
        live.store(old - n, Relaxed);
        old
    }
}

impl<F: Format, P: TablePool, T: TlbOps> PageTable<F, P, T> {
    const G: u64 = 1 << F::GRANULE_SHIFT;
    const START: u32 = F::START;
    /// Entries in a non-root table.
    const ENTRIES: usize = Derived::<F>::entries(3);

    /// An empty table; the root (with its concatenated tables) comes from
    /// `pool`. Fails only when the pool is exhausted (or hands out a root
    /// the format cannot address).
    pub fn new(pool: P, tlb: T) -> Result<Self, MapError> {
        #[allow(clippy::let_unit_value)]
        let () = F::VALID;
        #[allow(clippy::let_unit_value)]
        let () = Derived::<F>::VALID;
        const {
            assert!(
                P::GRANULE_SHIFT == Derived::<F>::TABLE_SHIFT,
                "pool table size differs from the format's non-root table size"
            )
        };
        let root = pool
            .alloc(Derived::<F>::ROOT_ORDER)
            .ok_or(MapError::NoMemory)?;
        if !Self::table_pa_ok(root, Derived::<F>::ROOT_ORDER) {
            pool.free(root, Derived::<F>::ROOT_ORDER);
            return Err(MapError::NoMemory);
        }
        let root_ptr = pool.entries(root).cast::<F::Desc>();
        if !F::COHERENT_WALK {
            tlb.clean(
                root_ptr.cast(),
                Derived::<F>::entries(Self::START) << <F::Desc as Desc>::SHIFT,
            );
        }
        Ok(PageTable {
            root,
            root_ptr,
            pool,
            tlb,
            hint: Hint::new(),
            retired: AtomicU64::new(0),
            _format: PhantomData,
        })
    }

    /// Physical address of the root table (for TTBR / VTTBR / the CD or STE).
    pub fn root(&self) -> u64 {
        self.root
    }

    /// The pool tables come from.
    pub fn pool(&self) -> &P {
        &self.pool
    }

    /// The TLB maintenance handle.
    pub fn tlb(&self) -> &T {
        &self.tlb
    }

    /// Physical addresses of the root tables (one per TTBR, or the
    /// concatenated stage-2 tables), `F::ROOT_TABLES` of them.
    pub fn root_table(&self, i: u32) -> Option<u64> {
        let bytes = (Derived::<F>::entries(Self::START) as u64) << <F::Desc as Desc>::SHIFT;
        (i < F::ROOT_TABLES).then(|| self.root + u64::from(i) * (bytes / u64::from(F::ROOT_TABLES)))
    }

    /// Whether a table of `1 << order` pool slots at `pa` is addressable by
    /// a table descriptor (and by the TTBR for the root).
    #[inline(always)]
    fn table_pa_ok(pa: u64, order: u32) -> bool {
        F::TABLE_PA_BITS >= 64
            || (pa >> F::TABLE_PA_BITS == 0
                && (pa + ((1u64 << Derived::<F>::TABLE_SHIFT) << order) - 1) >> F::TABLE_PA_BITS
                    == 0)
    }

    #[inline(always)]
    fn clean(&self, first: *const F::Desc, count: usize) {
        if !F::COHERENT_WALK && count != 0 {
            self.tlb
                .clean(first.cast(), count << <F::Desc as Desc>::SHIFT);
        }
    }

    /// Pointer to the first entry of the non-root table at `pa`.
    #[inline(always)]
    fn ptr(&self, pa: u64) -> *const F::Desc {
        self.pool.entries(pa).cast()
    }

    /// The live word of the table `pa` whose pointer is `tptr`.
    #[inline(always)]
    fn live_of(&self, pa: u64, tptr: *const F::Desc) -> &AtomicU64 {
        self.pool.live_of(pa, tptr.cast())
    }

    #[inline(always)]
    fn table_ptr(&self, pa: u64, level: u32) -> *const F::Desc {
        if level == Self::START {
            self.root_ptr
        } else {
            self.ptr(pa)
        }
    }

    /// The table at `level` that maps `iova`, by walking from the root.
    #[inline(always)]
    fn table_at(&self, iova: u64, level: u32) -> Option<u64> {
        let mut pa = self.root;
        let mut ptr = self.root_ptr;
        let mut l = Self::START;
        while l < level {
            let d = entry(ptr, Derived::<F>::index(l, iova)).load(Acquire);
            if d == 0 || !F::is_table(d, l) {
                return None;
            }
            pa = F::table_addr(d, l);
            ptr = self.ptr(pa);
            l += 1;
        }
        Some(pa)
    }

    /// The retirement count, read (shared mode) before a map's walk.
    #[inline(always)]
    fn retirements<const S: bool>(&self) -> u64 {
        if S {
            self.retired.load(Acquire)
        } else {
            0
        }
    }

    /// The path to the last-level table mapping `iova`, by straight-line
    /// levels from the root (as `iova_to_phys`); None at an empty entry or
    /// a block on the way.
    #[inline(always)]
    fn walk_to_last(&self, iova: u64) -> Option<(Path, *const F::Desc)> {
        let mut path: Path = [0; 4];
        let mut ptr = self.root_ptr;
        let mut level = Self::START;
        path[level as usize] = self.root;
        while level < 3 {
            let d = entry(ptr, Derived::<F>::index(level, iova)).load(Acquire);
            if d == 0 || !F::is_table(d, level) {
                return None;
            }
            let table = F::table_addr(d, level);
            ptr = self.ptr(table);
            level += 1;
            path[level as usize] = table;
        }
        Some((path, ptr))
    }

    /// The last-level table mapping `iova` and its entries' pointer, for an
    /// exclusive call: from the walk cache, or on a miss by a straight-line
    /// walk from the root, then remembered. None when there is none yet (or
    /// a block is on the way).
    #[inline(always)]
    fn last_table_mut(&self, iova: u64) -> Option<(u64, *const F::Desc)> {
        if let Some((_, t)) = self.hint.last(Self::hint_key(iova)) {
            return Some((t, self.ptr(t)));
        }
        let (path, tptr) = self.walk_to_last(iova)?;
        self.hint_record::<false>(iova, &path, 3);
        Some((path[3], tptr))
    }

    /// Reserve `n` entries of the non-root table `pa` that the walk for
    /// `iova`, begun when the retirement count was `epoch`, found at
    /// `level`. False if the table is going away or moved: the caller
    /// re-walks.
    ///
    /// Shared mode proves the table is still the one at that place. A
    /// reservation that does not see DEAD keeps the table from being
    /// retired from then on (the retiring CAS needs a zero count). It may
    /// still have landed on a later incarnation of the slot, reused
    /// elsewhere, or on a table reached through a reused ancestor; but a
    /// table is counted in `retired` after it is unlinked and before it
    /// goes back to the pool, and our read-modify-write reads (or follows
    /// in the release sequence of) the store of the new incarnation's
    /// allocation, which happens after that count. So the count read after
    /// the reservation differs from `epoch`, and only then is a re-walk
    /// from the root needed.
    #[inline(always)]
    fn reserve<const S: bool>(
        &self,
        pa: u64,
        tptr: *const F::Desc,
        level: u32,
        iova: u64,
        n: u64,
        epoch: u64,
    ) -> bool {
        let live = self.live_of(pa, tptr);
        if !S {
            live_add::<false>(live, n);
            return true;
        }
        // AcqRel: if we read a word stored by a later allocation of this slot,
        // we also see the unlinking that preceded its free (via the pool), so
        // the re-walk below cannot find the table at its old place.
        let seen = live.fetch_add(n, AcqRel);
        if seen & DEAD != 0 {
            return false;
        }
        // Acquire, after the AcqRel reservation: not read before it.
        if self.retired.load(Acquire) == epoch || self.table_at(iova, level) == Some(pa) {
            return true;
        }
        self.release_stray(pa, n, seen);
        false
    }

    /// Undo an unvalidated reservation, unless the slot was reused or
    /// retired meanwhile (then the count it was added to no longer exists).
    #[cold]
    fn release_stray(&self, pa: u64, n: u64, seen: u64) {
        let live = self.pool.live(pa);
        let mut cur = live.load(Relaxed);
        loop {
            if cur & DEAD != 0 || cur >> 32 != seen >> 32 || cur & COUNT_MASK < n {
                return;
            }
            match live.compare_exchange_weak(cur, cur - n, Release, Relaxed) {
                Ok(_) => return,
                Err(c) => cur = c,
            }
        }
    }

    /// A fresh table with `count` live entries (or reservations), next
    /// generation; `unzeroed`: the caller writes every entry before linking
    /// it (see [`TablePool::alloc_unzeroed`]).
    #[inline(always)]
    fn alloc_table(&self, count: u64, unzeroed: bool) -> Option<u64> {
        let pa = if unzeroed {
            self.pool.alloc_unzeroed(0)?
        } else {
            self.pool.alloc(0)?
        };
        if !Self::table_pa_ok(pa, 0) {
            self.pool.free(pa, 0);
            return None;
        }
        let live = self.pool.live(pa);
        let w = live.load(Relaxed);
        // Release: pairs with the AcqRel reservation (see `reserve`).
        live.store(((w >> 32).wrapping_add(1) << 32) | count, Release);
        Some(pa)
    }

    /// Drop `n` live entries of the table `path[level]`; give it back when it
    /// becomes empty.
    #[inline(always)]
    fn dec<const S: bool>(
        &self,
        path: &Path,
        tptr: *const F::Desc,
        level: u32,
        iova: u64,
        n: u64,
        g: &mut Gather,
    ) {
        if level == Self::START {
            return;
        }
        let old = live_sub::<S>(self.live_of(path[level as usize], tptr), n);
        if old & COUNT_MASK == n {
            self.retire::<S>(path, level, iova, g);
        }
    }

    /// Unlink the empty table `path[level]` (and ancestors that become empty).
    #[cold]
    fn retire<const S: bool>(&self, path: &Path, mut level: u32, iova: u64, g: &mut Gather) {
        let path = &self.resolve(path);
        while level > Self::START {
            let pa = path[level as usize];
            let live = self.pool.live(pa);
            let w = live.load(Acquire);
            // Zero entries and no reservations: claim it. A concurrent
            // reservation makes the CAS fail and the table stays, empty.
            if w & (COUNT_MASK | DEAD) != 0 {
                return;
            }
            if !S {
                live.store(w | DEAD, Relaxed);
            } else if live.compare_exchange(w, w | DEAD, AcqRel, Relaxed).is_err() {
                return;
            }
            let parent = path[level as usize - 1];
            let pptr = self.table_ptr(parent, level - 1);
            let e = entry(pptr, Derived::<F>::index(level - 1, iova));
            e.store(0, Release);
            self.clean(e, 1);
            let span = 1u64 << Derived::<F>::shift(level - 1);
            self.tlb.inv_walk(iova & !(span - 1), span, Self::G);
            self.pend(pa, false, g);
            if level - 1 == Self::START {
                return;
            }
            let old = live_sub::<S>(self.pool.live(parent), 1);
            if old & COUNT_MASK != 1 {
                return;
            }
            level -= 1;
        }
    }

    /// Key of the last-level table mapping `iova` in the hint.
    #[inline(always)]
    fn hint_key(iova: u64) -> u64 {
        (iova >> Derived::<F>::shift(2)) + 1
    }

    /// Key of the level-2 table mapping `iova` in the hint (formats that
    /// start above level 2 only).
    #[inline(always)]
    fn hint_key2(iova: u64) -> u64 {
        (iova >> Derived::<F>::shift(1)) + 1
    }

    /// Where a walk for `iova` starts: the root, or (exclusive mode, hint
    /// hit) directly at the last-level table, or at the level-2 table.
    /// Returns (path, level, table).
    #[inline(always)]
    fn walk_start<const S: bool>(&self, iova: u64) -> (Path, u32, u64, *const F::Desc) {
        let mut path: Path = [0; 4];
        if !S && Self::START < 3 {
            // Only the tables from the start level down now; the rest of
            // the path is read from the hint when a retirement needs it
            // (see `resolve`).
            let hit = match self.hint.last(Self::hint_key(iova)) {
                Some((w, t)) => Some((3, w, t)),
                None if Self::START < 2 => self
                    .hint
                    .level2(Self::hint_key2(iova))
                    .map(|(w, t)| (2, w, t)),
                None => None,
            };
            if let Some((level, w, table)) = hit {
                path[level] = table;
                path[Self::START as usize] = hint::marker(w);
                return (path, level as u32, table, self.ptr(table));
            }
        }
        path[Self::START as usize] = self.root;
        (path, Self::START, self.root, self.root_ptr)
    }

    /// The full path for one that `walk_start` took from the hint. The
    /// hint still holds it: nothing frees a table between a hinted start
    /// and the retirement that needs the path, and a path recorded in
    /// between (a level-2 start going down) has the same levels above 2.
    #[inline(always)]
    fn resolve(&self, path: &Path) -> Path {
        let mut full = *path;
        if let Some(w) = hint::marked_way(path[Self::START as usize]) {
            // Way `w` holds this walk's levels down to 2 (a level-2 start
            // took its table from there).
            self.hint.fill_upper(w, &mut full, Self::START as usize);
        }
        full
    }

    /// Remember the path to a last-level table (exclusive mode only).
    #[inline(always)]
    fn hint_record<const S: bool>(&self, iova: u64, path: &Path, level: u32) {
        if !S && level == 3 && Self::START < 3 {
            let full = self.resolve(path);
            let key2 = (Self::START < 2).then(|| Self::hint_key2(iova));
            self.hint
                .record(Self::hint_key(iova), key2, &full, Self::START as usize);
        }
    }

    /// Queue an unlinked table for freeing after the next sync; `dirty`:
    /// its entries were left as they were (the pool zeroes it, see
    /// [`TablePool::free_dirty`]), marked in the address's low bit (tables
    /// are at least 1 KiB aligned).
    fn pend(&self, pa: u64, dirty: bool, g: &mut Gather) {
        self.hint.clear();
        // Release: after the unlink, before the free (see `reserve`).
        self.retired.fetch_add(1, Release);
        if g.npending == PENDING {
            self.flush(g);
        }
        g.pending[g.npending] = pa | u64::from(dirty);
        g.npending += 1;
    }

    /// Issue the gathered leaf invalidation, sync, and free unlinked tables.
    fn flush(&self, g: &mut Gather) {
        let mut issued = false;
        if g.start < g.end {
            self.tlb
                .inv_range(g.start, g.end - g.start, g.granule, true);
            g.start = u64::MAX;
            g.end = 0;
            g.granule = u64::MAX;
            issued = true;
        }
        if issued || g.npending != 0 {
            self.tlb.sync();
        }
        for &p in &g.pending[..g.npending] {
            let pa = p & !1;
            if p & 1 != 0 {
                self.pool.free_dirty(pa, 0);
                continue;
            }
            #[cfg(debug_assertions)]
            {
                let p = self.ptr(pa);
                if let Some(i) = (0..Self::ENTRIES).find(|&i| entry(p, i).load(Relaxed) != 0) {
                    panic!(
                        "freeing table {pa:#x} with live entry {i}: {:#x}, live word {:#x}",
                        entry(p, i).load(Relaxed),
                        self.pool.live(pa).load(Relaxed)
                    );
                }
            }
            self.pool.free(pa, 0);
        }
        g.npending = 0;
    }

    /// The physical address `iova` translates to, if mapped.
    ///
    /// Straight-line code per level (the loop runs from a constant start
    /// level, so it unrolls): one load, one type test, one address decode.
    /// Random addresses miss the caches, so the dependent chain is what
    /// costs; nothing else sits on it.
    #[inline]
    pub fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        if iova >> F::IAS != 0 {
            return None;
        }
        let mut ptr = self.root_ptr;
        let mut level = Self::START;
        while level < 3 {
            let d = entry(ptr, Derived::<F>::index(level, iova)).load(Acquire);
            // `is_table` is only asked about non-zero entries (its contract).
            if d == 0 || !F::is_table(d, level) {
                return Self::leaf_phys(d, level, iova);
            }
            ptr = self.ptr(F::table_addr(d, level));
            level += 1;
        }
        Self::leaf_phys(
            entry(ptr, Derived::<F>::index(3, iova)).load(Acquire),
            3,
            iova,
        )
    }

    /// The address a leaf (or empty) entry at `level` gives `iova`.
    #[inline(always)]
    fn leaf_phys(d: u64, level: u32, iova: u64) -> Option<u64> {
        if d == 0 {
            return None;
        }
        let mut shift = Derived::<F>::shift(level);
        if Derived::<F>::HAS_CONTIG && F::is_contig(d, level) {
            shift += F::CONTIG[level as usize & 3];
        }
        Some(F::leaf_addr(d, level) + (iova & ((1u64 << shift) - 1)))
    }

    /// Live-entry count of the table mapping `iova` at `level` (tests).
    #[doc(hidden)]
    pub fn live_entries(&self, iova: u64, level: u32) -> Option<u64> {
        let pa = self.table_at(iova, level)?;
        Some(self.pool.live(pa).load(Relaxed) & COUNT_MASK)
    }
}

//! A CPU's handle on a shared table: the `&self` operations with a walk
//! cache and entry credits of the handle's own.
//!
//! The table's own walk cache (`hint`) serves only `&mut self` calls: a
//! cache shared by CPUs would be written by all of them on every call. A
//! handle belongs to one CPU (or queue) and is not shared, so it keeps, per
//! last-level table it works in (`WAYS` of them):
//!
//! - the path its walk found, with the retirement count read before the
//!   walk began (`epoch`) and the table's generation;
//! - **credits**: entries reserved in the table's live word ahead of use,
//!   in batches of `BATCH`, and the table's holder count raised by one
//!   (`HOLDER_ONE`). A single-page map spends a credit and a single-page
//!   unmap earns one, so neither touches the live word: the word reads
//!   entries + reservations + unused credits, which is unchanged by either.
//!   Surplus credits go back in batches; all go back (with the holder
//!   count) when the way is reused for another table or the handle drops,
//!   and the table retires then if that leaves it empty.
//!
//! Why a remembered table is still the one at its place: while a handle
//! holds credits the table's count cannot reach zero, so nothing retires it
//! by its count; only an unmap of a whole span covering it can (that caller
//! owns every IOVA of the span, so this handle's later calls there are
//! ordered after it by whoever handed the IOVAs over, and they see its
//! retirement count). Each call compares the count with `epoch`: unchanged,
//! no table was unlinked and the path stands; changed, the live word tells
//! whether the table died (DEAD or another generation: forget it, its
//! credits went with it) or lives (take the new count as `epoch`).
//! Reserving the first credits is an ordinary reservation (`reserve`), with
//! its proof.

use core::sync::atomic::Ordering::*;

use super::{entry, PageTable, Path};
use crate::pgtable::format::{Derived, Desc, Format};
use crate::pgtable::pool::{TablePool, COUNT_MASK, DEAD, HOLDER_ONE};
use crate::pgtable::tlb::{Gather, TlbOps};
use crate::pgtable::MapError;
use crate::prot::Prot;

/// Ways of a handle's cache (as many as the exclusive walk cache).
const WAYS: usize = super::hint::WAYS;
/// Credits reserved at a time; surplus beyond two batches goes back.
const BATCH: u64 = 64;

/// One last-level table a handle works in.
#[derive(Clone, Copy)]
struct Way {
    /// `PageTable::hint_key` of the table's span; 0: empty way.
    key: u64,
    /// The retirement count read before the walk (or the last check).
    epoch: u64,
    /// The table's generation (live word bits 32 and up) when reserved.
    gen: u64,
    /// Unused credits held.
    credits: u64,
    /// The tables from the start level down to the last-level one.
    path: Path,
}

const EMPTY: Way = Way {
    key: 0,
    epoch: 0,
    gen: 0,
    credits: 0,
    path: [0; 4],
};

/// A CPU's handle on a [`PageTable`] shared with other CPUs (made by
/// [`PageTable::handle`]). Its [`map`](Self::map) and [`unmap`](Self::unmap)
/// are the table's shared-mode [`map`](PageTable::map) and
/// [`unmap`](PageTable::unmap), under the same contract (CPUs work on
/// disjoint ranges); single-page calls use the handle's remembered walks
/// and credits, so they neither walk from the root nor write shared words.
///
/// A handle keeps up to four last-level tables from being retired while it
/// remembers them, even once empty: drop it (or let its calls move on) to
/// give them back.
pub struct Handle<'t, F: Format, P: TablePool, T: TlbOps> {
    pt: &'t PageTable<F, P, T>,
    ways: [Way; WAYS],
    /// Per way, the key of the last call that missed it: a table is taken
    /// into a way on its second call in a row there, so scattered calls
    /// (each in another table) cost no reservations and releases.
    missed: [u64; WAYS],
}

impl<F: Format, P: TablePool, T: TlbOps> PageTable<F, P, T> {
    /// A handle for one CPU: keep one per CPU (or per queue) and use it
    /// for that CPU's calls.
    pub fn handle(&self) -> Handle<'_, F, P, T> {
        Handle {
            pt: self,
            ways: [EMPTY; WAYS],
            missed: [0; WAYS],
        }
    }
}

impl<F: Format, P: TablePool, T: TlbOps> Drop for Handle<'_, F, P, T> {
    /// Gives every credit back (retiring tables that are empty then).
    fn drop(&mut self) {
        for w in 0..WAYS {
            self.release(w);
        }
    }
}

impl<'t, F: Format, P: TablePool, T: TlbOps> Handle<'t, F, P, T> {
    const G: u64 = PageTable::<F, P, T>::G;

    /// The table this handle works on.
    pub fn table(&self) -> &'t PageTable<F, P, T> {
        self.pt
    }

    /// [`PageTable::map`] through this handle.
    #[inline]
    pub fn map(&mut self, iova: u64, paddr: u64, size: u64, prot: Prot) -> Result<(), MapError> {
        if size == Self::G {
            if let Some(done) = self.map_hit(iova, paddr, prot) {
                return done;
            }
        }
        self.map_other(iova, paddr, size, prot)
    }

    /// [`PageTable::unmap`] through this handle.
    #[inline]
    pub fn unmap(&mut self, iova: u64, size: u64) -> u64 {
        if size == Self::G {
            if let Some(n) = self.unmap_hit(iova) {
                return n;
            }
        }
        self.unmap_other(iova, size)
    }

    /// The common single-page map, small enough to inline into the
    /// caller: the way holds the table, no table was retired since it was
    /// checked, a credit is at hand and the entry is free. None (nothing
    /// changed) sends the call to [`map_other`](Self::map_other), which
    /// decides everything again.
    #[inline(always)]
    fn map_hit(&mut self, iova: u64, paddr: u64, prot: Prot) -> Option<Result<(), MapError>> {
        let pt = self.pt;
        let w = self.held_way(iova)?;
        let way = &mut self.ways[w];
        if way.credits == 0 {
            return None;
        }
        let attrs = match pt.map_attrs(iova, paddr, Self::G, prot) {
            Ok(a) => a,
            Err(e) => return Some(Err(e)),
        };
        let e = entry(pt.ptr(way.path[3]), Derived::<F>::index(3, iova));
        if e.load(Relaxed) != 0 {
            return None;
        }
        Self::leaf_store(pt, way, e, F::leaf(paddr, attrs, 3, false));
        Some(Ok(()))
    }

    /// The common single-page unmap (as [`map_hit`](Self::map_hit)): a
    /// mapped page, not part of a contiguous group, in a held table.
    #[inline(always)]
    fn unmap_hit(&mut self, iova: u64) -> Option<u64> {
        let pt = self.pt;
        let w = self.held_way(iova)?;
        let way = &self.ways[w];
        PageTable::<F, P, T>::unmap_end(iova, Self::G)?;
        let e = entry(pt.ptr(way.path[3]), Derived::<F>::index(3, iova));
        let d = e.load(Acquire);
        if d == 0 || (Derived::<F>::HAS_CONTIG && F::is_contig(d, 3)) {
            return None;
        }
        self.unmap_leaf(w, iova, e);
        Some(Self::G)
    }

    /// The way that holds `iova`'s last-level table with no table retired
    /// since it was last checked: the one test both hits make before they
    /// touch an entry. None sends the call out of line, where
    /// [`way`](Self::way) fills or re-checks the way.
    #[inline(always)]
    fn held_way(&self, iova: u64) -> Option<usize> {
        if PageTable::<F, P, T>::START >= 3 {
            return None;
        }
        let key = PageTable::<F, P, T>::hint_key(iova);
        let w = key as usize % WAYS;
        let way = &self.ways[w];
        (way.key == key && way.epoch == self.pt.retirements::<true>()).then_some(w)
    }

    /// Every single-page map [`map_hit`](Self::map_hit) did not take, and
    /// every other map: kept out of line so the common call stays small.
    #[inline(never)]
    fn map_other(&mut self, iova: u64, paddr: u64, size: u64, prot: Prot) -> Result<(), MapError> {
        if size == Self::G && self.admit(iova) {
            return self.map_page(iova, paddr, prot);
        }
        self.pt.map(iova, paddr, size, prot)
    }

    /// Every unmap [`unmap_hit`](Self::unmap_hit) did not take.
    #[inline(never)]
    fn unmap_other(&mut self, iova: u64, size: u64) -> u64 {
        if size == Self::G && self.admit(iova) {
            return self.unmap_page(iova);
        }
        self.pt.unmap(iova, size)
    }

    /// A map's leaf store into way `way`'s held table, spending a credit.
    #[inline(always)]
    fn leaf_store(pt: &PageTable<F, P, T>, way: &mut Way, e: &F::Desc, leaf: u64) {
        // Release: see `PageTable::leaf_fence`.
        e.store(leaf, Release);
        pt.clean(e, 1);
        way.credits -= 1;
        #[cfg(debug_assertions)]
        {
            let lw = pt.pool.live(way.path[3]).load(Acquire);
            debug_assert!(
                lw & DEAD == 0 && lw >> 32 == way.gen && lw & COUNT_MASK > HOLDER_ONE,
                "a handle mapped into a table it does not hold: {lw:#x} gen {:#x}",
                way.gen
            );
        }
    }

    /// An unmap's clear of a mapped entry in way `w`'s held table, earning
    /// a credit (surplus goes back), with the page's invalidation.
    #[inline(always)]
    fn unmap_leaf(&mut self, w: usize, iova: u64, e: &F::Desc) {
        let pt = self.pt;
        e.store(0, Release);
        pt.clean(e, 1);
        self.ways[w].credits += 1;
        pt.tlb.inv_range(iova, Self::G, Self::G, true);
        pt.tlb.sync();
        if self.ways[w].credits > 2 * BATCH {
            self.give_back(w, BATCH);
        }
    }

    /// Whether a single-page call at `iova` goes through the handle's
    /// ways: its table is in one, or the last call that missed that way
    /// was in the same table (a second call in a row there). Otherwise the
    /// call is the table's own shared one, exactly, and this is all the
    /// handle costs it.
    #[inline(always)]
    fn admit(&mut self, iova: u64) -> bool {
        if PageTable::<F, P, T>::START >= 3 {
            return false;
        }
        let key = PageTable::<F, P, T>::hint_key(iova);
        let w = key as usize % WAYS;
        if self.ways[w].key == key || self.missed[w] == key {
            return true;
        }
        self.missed[w] = key;
        false
    }

    /// A single-page map of an admitted call.
    #[inline(always)]
    fn map_page(&mut self, iova: u64, paddr: u64, prot: Prot) -> Result<(), MapError> {
        let pt = self.pt;
        let attrs = pt.map_attrs(iova, paddr, Self::G, prot)?;
        if let Some(w) = self.way(iova, true) {
            let way = &mut self.ways[w];
            let e = entry(pt.ptr(way.path[3]), Derived::<F>::index(3, iova));
            // A taken entry: the general path reports it.
            if e.load(Relaxed) == 0 {
                Self::leaf_store(pt, way, e, F::leaf(paddr, attrs, 3, false));
                return Ok(());
            }
        } else if pt.map_page_shared(iova, paddr, attrs) {
            return Ok(());
        }
        pt.map_range::<true>(iova, paddr, Self::G, attrs)
    }

    /// A single-page unmap of an admitted call.
    #[inline(always)]
    fn unmap_page(&mut self, iova: u64) -> u64 {
        let pt = self.pt;
        let Some(end) = PageTable::<F, P, T>::unmap_end(iova, Self::G) else {
            return 0;
        };
        if let Some(w) = self.way(iova, false) {
            let e = entry(pt.ptr(self.ways[w].path[3]), Derived::<F>::index(3, iova));
            let d = e.load(Acquire);
            // Empty, or part of a contiguous group: the general path.
            if d != 0 && !(Derived::<F>::HAS_CONTIG && F::is_contig(d, 3)) {
                self.unmap_leaf(w, iova, e);
                return Self::G;
            }
        } else if let Some(n) = pt.unmap_page_shared(iova) {
            return n;
        }
        pt.unmap_range::<true>(iova, end)
    }

    /// [`PageTable::iova_to_phys`].
    #[inline]
    pub fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        self.pt.iova_to_phys(iova)
    }

    /// The way holding the last-level table for an admitted `iova`
    /// (filled now if it is not there), checked against the retirement
    /// count, with a credit to spend when `spend`. None when the table's
    /// own shared path must run: no last-level table yet (or a block on
    /// the way), or no credits to be had.
    #[inline(always)]
    fn way(&mut self, iova: u64, spend: bool) -> Option<usize> {
        let pt = self.pt;
        let key = PageTable::<F, P, T>::hint_key(iova);
        let w = key as usize % WAYS;
        if self.ways[w].key != key {
            self.fill(w, key, iova)?;
        } else {
            let now = pt.retirements::<true>();
            if self.ways[w].epoch != now && !self.still_alive(w, now) {
                self.fill(w, key, iova)?;
            }
        }
        if spend && self.ways[w].credits == 0 && !self.take(w, BATCH) {
            return None;
        }
        Some(w)
    }

    /// After the retirement count moved to `now`: whether way `w`'s table
    /// lives (then `now` is its epoch), or died (then the way is emptied;
    /// its credits went with the table).
    #[cold]
    fn still_alive(&mut self, w: usize, now: u64) -> bool {
        let way = &mut self.ways[w];
        let lw = self.pt.pool.live(way.path[3]).load(Acquire);
        if lw & DEAD == 0 && lw >> 32 == way.gen {
            way.epoch = now;
            return true;
        }
        *way = EMPTY;
        false
    }

    /// Put the last-level table for `iova` (key `key`) in way `w`, giving
    /// back the one there (first: giving it back may retire tables), then a
    /// walk from the root, a reservation of the first credits and the
    /// holder mark.
    #[inline(never)]
    fn fill(&mut self, w: usize, key: u64, iova: u64) -> Option<()> {
        self.release(w);
        let pt = self.pt;
        let epoch = pt.retirements::<true>();
        let (path, ptr) = pt.walk_to_last(iova)?;
        let n = BATCH + HOLDER_ONE;
        if !pt.reserve::<true>(path[3], ptr, 3, iova, n, epoch) {
            return None;
        }
        let gen = pt.live_of(path[3], ptr).load(Relaxed) >> 32;
        self.ways[w] = Way {
            key,
            epoch,
            gen,
            credits: BATCH,
            path,
        };
        Some(())
    }

    /// Reserve `n` more credits in way `w`'s table (checked live this call).
    fn take(&mut self, w: usize, n: u64) -> bool {
        let way = &mut self.ways[w];
        let live = self.pt.pool.live(way.path[3]);
        let old = live.fetch_add(n, AcqRel);
        // Our holder mark keeps the count from zero, so the table cannot
        // have been retired by its count, and a whole-span unmap is ordered
        // before this call by the caller's contract (`way` checked the
        // retirement count). Should that not hold, undo and forget it.
        if old & DEAD != 0 || old >> 32 != way.gen {
            let pa = way.path[3];
            *way = EMPTY;
            self.pt.release_stray(pa, n, old);
            return false;
        }
        way.credits += n;
        true
    }

    /// Give `n` of way `w`'s credits back (the holder mark stays, so the
    /// table cannot empty). Out of line: one unmap in `BATCH` comes here.
    #[inline(never)]
    fn give_back(&mut self, w: usize, n: u64) {
        let way = &mut self.ways[w];
        if self.pt.sub_live(way.path[3], way.gen, n).is_some() {
            way.credits -= n;
        } else {
            *way = EMPTY;
        }
    }

    /// Give way `w`'s credits and holder mark back, retiring the table if
    /// that empties it; the way is empty afterwards.
    fn release(&mut self, w: usize) {
        let way = core::mem::replace(&mut self.ways[w], EMPTY);
        if way.key == 0 {
            return;
        }
        let pt = self.pt;
        let now = pt.retirements::<true>();
        if now != way.epoch {
            let lw = pt.pool.live(way.path[3]).load(Acquire);
            if lw & DEAD != 0 || lw >> 32 != way.gen {
                return;
            }
        }
        let n = way.credits + HOLDER_ONE;
        if pt.sub_live(way.path[3], way.gen, n) == Some(0) {
            let iova = (way.key - 1) << Derived::<F>::shift(2);
            let mut g = Gather::new();
            pt.retire::<true>(&way.path, 3, iova, &mut g);
            pt.flush(&mut g);
        }
    }
}

impl<F: Format, P: TablePool, T: TlbOps> PageTable<F, P, T> {
    /// Subtract `n` from the live word of the table `pa` while it is of
    /// generation `gen` and not dead; returns the count left, None when the
    /// table is gone (nothing subtracted).
    fn sub_live(&self, pa: u64, gen: u64, n: u64) -> Option<u64> {
        let live = self.pool.live(pa);
        let mut cur = live.load(Relaxed);
        loop {
            if cur & DEAD != 0 || cur >> 32 != gen || cur & COUNT_MASK < n {
                return None;
            }
            match live.compare_exchange_weak(cur, cur - n, AcqRel, Relaxed) {
                Ok(_) => return Some((cur - n) & COUNT_MASK),
                Err(c) => cur = c,
            }
        }
    }
}

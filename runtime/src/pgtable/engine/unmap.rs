//! `unmap`: clear what the range covers, split blocks it cuts, give
//! emptied tables back, one gathered invalidation per call.

use core::sync::atomic::Ordering::*;

use super::{entry, PageTable, Path};
use crate::pgtable::format::{Derived, Desc, Format};
use crate::pgtable::pool::{TablePool, COUNT_MASK, DEAD, HOLDER_ONE};
use crate::pgtable::tlb::{Gather, TlbOps};

impl<F: Format, P: TablePool, T: TlbOps> PageTable<F, P, T> {
    /// Unmap `[iova, iova + size)`; returns the bytes that were mapped there.
    /// Blocks cut by the range are split (break-before-make); tables that
    /// become empty go back to the pool. A misaligned or out-of-range
    /// request unmaps nothing; running out of tables for a split stops early.
    /// Other CPUs may map and unmap disjoint ranges at the same time.
    #[inline]
    pub fn unmap(&self, iova: u64, size: u64) -> u64 {
        self.unmap_inner::<true>(iova, size)
    }

    /// [`unmap`](Self::unmap) for an exclusive owner (see [`map_mut`](Self::map_mut)).
    #[inline]
    pub fn unmap_mut(&mut self, iova: u64, size: u64) -> u64 {
        self.unmap_inner::<false>(iova, size)
    }

    #[inline(always)]
    pub(super) fn unmap_inner<const S: bool>(&self, iova: u64, size: u64) -> u64 {
        let Some(end) = Self::unmap_end(iova, size) else {
            return 0;
        };
        if size == Self::G {
            let done = if S {
                self.unmap_page_shared(iova)
            } else {
                self.unmap_page_hinted(iova)
            };
            if let Some(n) = done {
                return n;
            }
        }
        self.unmap_range::<S>(iova, end)
    }

    /// The end of an unmap request, None for one that unmaps nothing
    /// (empty, misaligned, out of range).
    #[inline(always)]
    pub(super) fn unmap_end(iova: u64, size: u64) -> Option<u64> {
        if size == 0 || (iova | size) & (Self::G - 1) != 0 {
            return None;
        }
        iova.checked_add(size).filter(|&end| end <= 1u64 << F::IAS)
    }

    /// The general unmap of `[iova, end)`, one gathered invalidation.
    #[inline(always)]
    pub(super) fn unmap_range<const S: bool>(&self, iova: u64, end: u64) -> u64 {
        let mut g = Gather::new();
        let mut cur = iova;
        let mut total = 0;
        while cur < end {
            match self.unmap_step::<S>(cur, end - cur, &mut g) {
                Some((adv, n)) => {
                    cur += adv;
                    total += n;
                }
                None => break,
            }
        }
        self.flush(&mut g);
        total
    }

    /// Exclusive unmap of one page whose last-level table the walk hint
    /// names (on a miss: a straight-line walk, remembered) and which stays
    /// non-empty afterwards: clear the entry, count it, one leaf
    /// invalidation and one sync. None when the general path must run (a
    /// block or empty entry, or the table would empty and must be retired).
    #[inline(always)]
    fn unmap_page_hinted(&self, iova: u64) -> Option<u64> {
        if Self::START >= 3 {
            return None;
        }
        let (table, tptr) = self.last_table_mut(iova)?;
        let e = entry(tptr, Derived::<F>::index(3, iova));
        let d = e.load(Relaxed);
        let live = self.live_of(table, tptr);
        let w = live.load(Relaxed);
        // A last-level entry is a page or empty; the count includes it. A
        // page of a contiguous group needs the group split first.
        if d == 0 || w & COUNT_MASK <= 1 || (Derived::<F>::HAS_CONTIG && F::is_contig(d, 3)) {
            return None;
        }
        e.store(0, Relaxed);
        self.clean(e, 1);
        live.store(w - 1, Relaxed);
        self.tlb.inv_range(iova, Self::G, Self::G, true);
        self.tlb.sync();
        Some(Self::G)
    }

    /// Shared unmap of one page in a last-level table that stays
    /// non-empty: a walk of straight-line levels, then
    /// [`unmap_last_shared`](Self::unmap_last_shared). None when the general
    /// path must run; nothing was changed then.
    #[inline(always)]
    pub(super) fn unmap_page_shared(&self, iova: u64) -> Option<u64> {
        if Self::START >= 3 {
            return None;
        }
        let epoch = self.retirements::<true>();
        let (path, ptr) = self.walk_to_last(iova)?;
        self.unmap_last_shared(&path, ptr, epoch, iova)
    }

    /// Shared unmap of one page in the last-level table `path[3]` (at
    /// `ptr`), found by a walk for `iova` begun when the retirement count
    /// was `epoch`: the check that the table is still where it was found,
    /// one store, one decrement, one leaf invalidation and one sync. None
    /// when the general path must run (an empty entry, a contiguous group,
    /// the table's last page, a table that moved); nothing was changed then.
    #[inline(always)]
    pub(super) fn unmap_last_shared(
        &self,
        path: &Path,
        ptr: *const F::Desc,
        epoch: u64,
        iova: u64,
    ) -> Option<u64> {
        let table = path[3];
        // The live word before the entry (see `still_there`).
        let live = self.live_of(table, ptr);
        let w = live.load(Acquire);
        let e = entry(ptr, Derived::<F>::index(3, iova));
        let d = e.load(Acquire);
        if d == 0
            || w & COUNT_MASK <= 1
            || (Derived::<F>::HAS_CONTIG && F::is_contig(d, 3))
            || !self.still_there_since(table, 3, iova, w, epoch)
        {
            return None;
        }
        e.store(0, Release);
        self.clean(e, 1);
        if live.fetch_sub(1, AcqRel) & COUNT_MASK == 1 {
            // Neighbours emptied the table meanwhile: retire it as `dec`
            // would, through the path the walk took.
            let mut g = Gather::new();
            g.add_leaf(iova, Self::G, Self::G);
            self.retire::<true>(path, 3, iova, &mut g);
            self.flush(&mut g);
        } else {
            self.tlb.inv_range(iova, Self::G, Self::G, true);
            self.tlb.sync();
        }
        Some(Self::G)
    }

    /// Whether `table` (entered with live word `w`) is still the level-`level`
    /// table for `iova`: loads only, like a sequence lock.
    #[inline(always)]
    fn still_there<const S: bool>(&self, table: u64, level: u32, iova: u64, w: u64) -> bool {
        !S || level == Self::START || {
            let ok = self.table_at(iova, level) == Some(table);
            let w2 = self.pool.live(table).load(Acquire);
            ok && w & DEAD == 0 && w2 & DEAD == 0 && w2 >> 32 == w >> 32
        }
    }

    /// [`still_there`](Self::still_there) for a table a walk begun at
    /// retirement count `epoch` found: while no table has been retired
    /// since, tables were only added, so the one found is still linked
    /// where it was and the walk need not be repeated.
    #[inline(always)]
    fn still_there_since(&self, table: u64, level: u32, iova: u64, w: u64, epoch: u64) -> bool {
        let ok = self.retired.load(Acquire) == epoch || self.table_at(iova, level) == Some(table);
        let w2 = self.pool.live(table).load(Acquire);
        ok && w & DEAD == 0 && w2 & DEAD == 0 && w2 >> 32 == w >> 32
    }

    /// Unmap a prefix of `[iova, iova + rem)`: returns (bytes advanced, bytes
    /// unmapped), or None when a split found the pool empty.
    #[inline(always)]
    fn unmap_step<const S: bool>(&self, iova: u64, rem: u64, g: &mut Gather) -> Option<(u64, u64)> {
        'retry: loop {
            let (mut path, mut level, mut table, mut tptr) = self.walk_start::<S>(iova);
            let mut w = 0;
            loop {
                let shift = Derived::<F>::shift(level);
                let blk = 1u64 << shift;
                let off = iova & (blk - 1);
                let idx = Derived::<F>::index(level, iova);
                let e = entry(tptr, idx);
                let d = e.load(Acquire);
                if d == 0 {
                    return Some(((blk - off).min(rem), 0));
                }
                let whole = off == 0 && rem >= blk;
                if F::is_table(d, level) {
                    let child = F::table_addr(d, level);
                    if !whole {
                        table = child;
                        tptr = self.ptr(child);
                        level += 1;
                        path[level as usize] = table;
                        self.hint_record::<S>(iova, &path, level);
                        // Read the live word before the table's entries.
                        if S {
                            w = self.pool.live(table).load(Acquire);
                        }
                        continue;
                    }
                    if !self.still_there::<S>(table, level, iova, w) {
                        continue 'retry;
                    }
                    // The whole span is ours: unlink the table, then clear
                    // and free everything below it.
                    e.store(0, Release);
                    self.clean(e, 1);
                    self.tlb.inv_walk(iova, blk, Self::G);
                    g.add_leaf(iova, blk, Self::G);
                    let bytes = self.retire_subtree(child, level + 1, iova, g);
                    self.dec::<S>(&path, tptr, level, iova, 1, g);
                    return Some((blk, bytes));
                }
                if Derived::<F>::HAS_CONTIG && F::is_contig(d, level) {
                    let gblk = blk << F::CONTIG[level as usize & 3];
                    if iova & (gblk - 1) != 0 || rem < gblk {
                        // The range cuts a contiguous group: rewrite it as
                        // single leaves in place, then look again.
                        if !self.still_there::<S>(table, level, iova, w) {
                            continue 'retry;
                        }
                        self.split_group(tptr, idx, level, iova, d);
                        continue;
                    }
                }
                if whole {
                    if !self.still_there::<S>(table, level, iova, w) {
                        continue 'retry;
                    }
                    let room = (Derived::<F>::entries(level) - idx) as u64;
                    let n = (rem >> shift).min(room);
                    let mut i = 0;
                    let mut cleared = 0;
                    while i < n {
                        let ei = entry(tptr, idx + i as usize);
                        let di = ei.load(Relaxed);
                        if di != 0 && F::is_table(di, level) {
                            break;
                        }
                        // Entries of a contiguous group go together: stop
                        // at the first entry of a group the range does not
                        // cover whole (we reach every group at its first).
                        if Derived::<F>::HAS_CONTIG && di != 0 && F::is_contig(di, level) {
                            let c = F::CONTIG[level as usize & 3];
                            if (idx + i as usize) & ((1 << c) - 1) == 0 && i + (1 << c) > n {
                                break;
                            }
                        }
                        if di != 0 {
                            ei.store(0, Relaxed);
                            cleared += 1;
                        }
                        i += 1;
                    }
                    self.clean(e, i as usize);
                    if cleared != 0 {
                        g.add_leaf(iova, i * blk, blk);
                        self.dec::<S>(&path, tptr, level, iova, cleared, g);
                    }
                    return Some((i * blk, cleared * blk));
                }
                // The range cuts this block: split it one level down.
                if !self.still_there::<S>(table, level, iova, w) {
                    continue 'retry;
                }
                // Every entry is written below, before the table is linked.
                let new = self.alloc_table(Self::ENTRIES as u64, true)?;
                let nptr = self.ptr(new);
                let sub = 1u64 << Derived::<F>::shift(level + 1);
                let base = F::leaf_addr(d, level);
                let attrs = F::leaf_attrs(d, level);
                for i in 0..Self::ENTRIES {
                    let out = F::leaf(base + i as u64 * sub, attrs, level + 1, false);
                    entry(nptr, i).store(out, Relaxed);
                }
                self.clean(nptr, Self::ENTRIES);
                // Break-before-make: the block must be gone from every TLB
                // before the table that replaces it becomes visible.
                e.store(0, Release);
                self.clean(e, 1);
                self.tlb.inv_range(iova - off, blk, blk, true);
                self.tlb.sync();
                e.store(F::table(new, level), Release);
                self.clean(e, 1);
                table = new;
                tptr = nptr;
                level += 1;
                path[level as usize] = table;
                self.hint_record::<S>(iova, &path, level);
                if S {
                    w = self.pool.live(table).load(Acquire);
                }
            }
        }
    }

    /// Retire the unlinked table `top` (at `level`, mapping from `base`)
    /// and every table below it, and return the bytes they mapped.
    ///
    /// Nothing else can reach these tables any more (the caller owns the
    /// whole span and has unlinked `top`), so their entries are left as
    /// they are: each table is marked dead and queued for
    /// [`TablePool::free_dirty`], which zeroes it when it is next handed
    /// out. A last-level table is not even read: its live count is its
    /// number of pages. Iterative: the depth is at most three tables. The
    /// caller gathers the leaf invalidation for the whole span.
    fn retire_subtree(&self, top: u64, level: u32, base: u64, g: &mut Gather) -> u64 {
        // (table, level, next index, base iova)
        let mut stack: [(u64, u32, usize, u64); 4] = [(0, 0, 0, 0); 4];
        stack[0] = (top, level, 0, base);
        let mut sp = 1;
        let mut bytes = 0;
        while sp != 0 {
            let (pa, l, i, b) = stack[sp - 1];
            let ptr = self.ptr(pa);
            let i = if l == 3 {
                let w = self.live_of(pa, ptr).load(Acquire);
                let pages = if w & !(HOLDER_ONE - 1) & COUNT_MASK != 0 {
                    // A CPU handle holds credits on it: its count is not its
                    // number of pages, so count them.
                    (0..Self::ENTRIES)
                        .filter(|&k| entry(ptr, k).load(Relaxed) != 0)
                        .count() as u64
                } else {
                    w & COUNT_MASK
                };
                debug_assert_eq!(
                    pages as usize,
                    (0..Self::ENTRIES)
                        .filter(|&k| entry(ptr, k).load(Relaxed) != 0)
                        .count(),
                    "a last-level table's live count is its number of pages"
                );
                bytes += pages << Derived::<F>::shift(3);
                Self::ENTRIES
            } else {
                i
            };
            if i == Self::ENTRIES {
                self.pool.live(pa).fetch_or(DEAD, AcqRel);
                self.pend(pa, true, g);
                sp -= 1;
                continue;
            }
            stack[sp - 1].2 = i + 1;
            let d = entry(ptr, i).load(Relaxed);
            if d == 0 {
                continue;
            }
            let shift = Derived::<F>::shift(l);
            if F::is_table(d, l) {
                stack[sp] = (F::table_addr(d, l), l + 1, 0, b + ((i as u64) << shift));
                sp += 1;
            } else {
                bytes += 1 << shift;
            }
        }
        bytes
    }

    /// Rewrite the contiguous group holding entry `idx` (whose value is
    /// `d`) as single leaves of the same output and attributes, with
    /// break-before-make: the group is cleared and invalidated before the
    /// singles appear. Live counts do not change (as many non-zero entries).
    #[cold]
    fn split_group(&self, tptr: *const F::Desc, idx: usize, level: u32, iova: u64, d: u64) {
        let c = F::CONTIG[level as usize & 3];
        let blk = 1u64 << Derived::<F>::shift(level);
        let gblk = blk << c;
        let first = idx & !((1usize << c) - 1);
        for k in 0..1usize << c {
            entry(tptr, first + k).store(0, Release);
        }
        let e = entry(tptr, first);
        self.clean(e, 1 << c);
        self.tlb.inv_range(iova & !(gblk - 1), gblk, gblk, true);
        self.tlb.sync();
        let base = F::leaf_addr(d, level);
        let attrs = F::leaf_attrs(d, level);
        for k in 0..1usize << c {
            let out = F::leaf(base + k as u64 * blk, attrs, level, false);
            entry(tptr, first + k).store(out, Release);
        }
        self.clean(e, 1 << c);
    }
}

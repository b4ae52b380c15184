//! `map`: one walk per run of entries, largest allowed leaves, all or
//! nothing.

use core::sync::atomic::Ordering::*;

use super::{entry, live_add, live_sub, PageTable, Path};
use crate::pgtable::format::{Derived, Desc, Format};
use crate::pgtable::pool::{TablePool, DEAD};
use crate::pgtable::tlb::{Gather, TlbOps};
use crate::pgtable::MapError;
use crate::prot::Prot;

impl<F: Format, P: TablePool, T: TlbOps> PageTable<F, P, T> {
    /// Map `[iova, iova + size)` to `[paddr, paddr + size)` with `prot`.
    /// Other CPUs may map and unmap disjoint ranges at the same time.
    ///
    /// All-or-nothing: on error every entry this call wrote is removed again
    /// and tables it added are given back.
    #[inline]
    pub fn map(&self, iova: u64, paddr: u64, size: u64, prot: Prot) -> Result<(), MapError> {
        self.map_inner::<true>(iova, paddr, size, prot)
    }

    /// [`map`](Self::map) for an exclusive owner (a single CPU, or a caller
    /// holding a lock): the same tables, without atomic read-modify-writes
    /// or re-validation.
    #[inline]
    pub fn map_mut(
        &mut self,
        iova: u64,
        paddr: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), MapError> {
        self.map_inner::<false>(iova, paddr, size, prot)
    }

    #[inline(always)]
    fn map_inner<const S: bool>(
        &self,
        iova: u64,
        paddr: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), MapError> {
        let attrs = self.map_attrs(iova, paddr, size, prot)?;
        if size == Self::G {
            let done = if S {
                self.map_page_shared(iova, paddr, attrs)
            } else {
                self.map_page_hinted(iova, paddr, attrs)
            };
            if done {
                return Ok(());
            }
        }
        self.map_range::<S>(iova, paddr, size, attrs)
    }

    /// The descriptor attributes for a map of `[iova, iova + size)` to
    /// `paddr` with `prot`, or why the request is refused.
    #[inline(always)]
    pub(super) fn map_attrs(
        &self,
        iova: u64,
        paddr: u64,
        size: u64,
        prot: Prot,
    ) -> Result<u64, MapError> {
        if size == 0 {
            return Err(MapError::Empty);
        }
        if (iova | paddr | size) & (Self::G - 1) != 0 {
            return Err(MapError::Misaligned);
        }
        if !prot.contains(Prot::READ) && !prot.contains(Prot::WRITE) {
            return Err(MapError::NoAccess);
        }
        match iova.checked_add(size) {
            Some(end) if end <= 1u64 << F::IAS => {}
            _ => return Err(MapError::IovaOutOfRange),
        }
        match paddr.checked_add(size) {
            Some(end) if end <= 1u64 << F::OAS => {}
            _ => return Err(MapError::PaddrOutOfRange),
        }
        Ok(F::attrs(prot))
    }

    /// The general map of a checked range: one run of entries at a time,
    /// all or nothing.
    #[inline(always)]
    pub(super) fn map_range<const S: bool>(
        &self,
        iova: u64,
        paddr: u64,
        size: u64,
        attrs: u64,
    ) -> Result<(), MapError> {
        let mut done = 0;
        while done < size {
            match self.map_step::<S>(iova + done, paddr + done, size - done, attrs) {
                Ok(n) => done += n,
                Err(e) => {
                    if done != 0 {
                        self.unmap_inner::<S>(iova, done);
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Exclusive map of one page into the last-level table the walk hint
    /// names (on a miss: a straight-line walk from the root, remembered),
    /// when its entry is empty: write the page, count it. False when the
    /// general path must run (no last-level table yet, or the entry is
    /// taken, which that path reports).
    #[inline(always)]
    fn map_page_hinted(&self, iova: u64, pa: u64, attrs: u64) -> bool {
        if Self::START >= 3 {
            return false;
        }
        let Some((table, tptr)) = self.last_table_mut(iova) else {
            return false;
        };
        let e = entry(tptr, Derived::<F>::index(3, iova));
        if e.load(Relaxed) != 0 {
            return false;
        }
        live_add::<false>(self.live_of(table, tptr), 1);
        e.store(F::leaf(pa, attrs, 3, false), Relaxed);
        self.clean(e, 1);
        true
    }

    /// Shared map of one page whose last-level table exists: a walk of
    /// straight-line levels (as `iova_to_phys`), then
    /// [`map_last_shared`](Self::map_last_shared). False when the general
    /// path must run; nothing was changed then.
    #[inline(always)]
    pub(super) fn map_page_shared(&self, iova: u64, pa: u64, attrs: u64) -> bool {
        if Self::START >= 3 {
            return false;
        }
        let epoch = self.retirements::<true>();
        let Some((path, ptr)) = self.walk_to_last(iova) else {
            return false;
        };
        self.map_last_shared(path[3], ptr, epoch, iova, pa, attrs)
    }

    /// Shared map of one page into the last-level table `table` (at `ptr`),
    /// found by a walk for `iova` begun when the retirement count was
    /// `epoch`: one reservation, one store. False when the general path
    /// must run (a taken entry, which it reports; a reservation refused);
    /// nothing was changed then.
    #[inline(always)]
    pub(super) fn map_last_shared(
        &self,
        table: u64,
        ptr: *const F::Desc,
        epoch: u64,
        iova: u64,
        pa: u64,
        attrs: u64,
    ) -> bool {
        let e = entry(ptr, Derived::<F>::index(3, iova));
        if e.load(Relaxed) != 0 || !self.reserve::<true>(table, ptr, 3, iova, 1, epoch) {
            return false;
        }
        if e.load(Relaxed) != 0 {
            // Taken under us: the general path reports it.
            live_sub::<true>(self.live_of(table, ptr), 1);
            return false;
        }
        // Release: see `leaf_fence`.
        e.store(F::leaf(pa, attrs, 3, false), Release);
        self.clean(e, 1);
        true
    }

    /// Shared mode, before leaves are written into a linked table: an
    /// unmapper that reads one of them (Acquire) through a stale table
    /// address then also sees the table's new live word (its allocation
    /// happened before whoever writes here reached the table), so its
    /// generation check notices the reuse. Free on x86; on Arm it orders
    /// the stores as `stlr` would.
    #[inline(always)]
    fn leaf_fence<const S: bool>() {
        if S {
            core::sync::atomic::fence(Release);
        }
    }

    /// Map a prefix of the range: one run of entries in one table. Returns
    /// the bytes mapped (never zero on success).
    #[inline(always)]
    fn map_step<const S: bool>(
        &self,
        iova: u64,
        pa: u64,
        rem: u64,
        attrs: u64,
    ) -> Result<u64, MapError> {
        'retry: loop {
            // Before the walk: a reservation that finds no table retired
            // since needs no re-walk (see `reserve`).
            let epoch = self.retirements::<S>();
            let (mut path, mut level, mut table, mut tptr) = self.walk_start::<S>(iova);
            // Reservations we hold on `table` (1 right after installing it).
            let mut held: u64 = 0;
            loop {
                let shift = Derived::<F>::shift(level);
                let blk = 1u64 << shift;
                let idx = Derived::<F>::index(level, iova);
                let e = entry(tptr, idx);
                let d = e.load(Acquire);
                if d != 0 && F::is_table(d, level) {
                    if held != 0 {
                        // Another CPU mapping nearby installed a table in the
                        // one we just added, between our install and this
                        // read. Our reservation for that entry is surplus:
                        // give it back (it may retire the table) and walk
                        // again through what is there now.
                        self.put::<S>(&path, level, iova);
                        continue 'retry;
                    }
                    table = F::table_addr(d, level);
                    tptr = self.ptr(table);
                    level += 1;
                    path[level as usize] = table;
                    self.hint_record::<S>(iova, &path, level);
                    continue;
                }
                if d != 0 {
                    if held != 0 {
                        self.put::<S>(&path, level, iova);
                    }
                    return Err(MapError::Overlap);
                }
                let (n, contig) = self.leaf_run(tptr, idx, level, iova, pa, rem, held != 0);
                if n != 0 {
                    if held != 0 {
                        // A table we just installed: our entries are still
                        // zero (nobody else maps in our range), no checks.
                        if n > held {
                            live_add::<S>(self.live_of(table, tptr), n - held);
                        }
                        Self::leaf_fence::<S>();
                        self.fill::<S>(tptr, idx, n as usize, pa, level, attrs, contig);
                        self.clean(e, n as usize);
                        return Ok(n * blk);
                    }
                    if level != Self::START
                        && !self.reserve::<S>(table, tptr, level, iova, n, epoch)
                    {
                        continue 'retry;
                    }
                    let mut written = 0;
                    Self::leaf_fence::<S>();
                    if contig {
                        // `leaf_run` found every entry of these groups empty,
                        // and nobody else maps in our range.
                        self.fill::<S>(tptr, idx, n as usize, pa, level, attrs, true);
                        written = n;
                    }
                    while written < n {
                        let ei = entry(tptr, idx + written as usize);
                        if ei.load(Relaxed) != 0 {
                            break;
                        }
                        ei.store(F::leaf(pa + written * blk, attrs, level, false), Relaxed);
                        written += 1;
                    }
                    self.clean(e, written as usize);
                    if written < n && level != Self::START {
                        // Entry `written` is taken (by a table: a leaf would
                        // overlap). Give back the unused reservations; if
                        // none was used, the count may reach zero.
                        if written == 0 {
                            self.put_n::<S>(&path, tptr, level, iova, n);
                        } else {
                            live_sub::<S>(self.live_of(table, tptr), n - written);
                        }
                    }
                    if written == 0 {
                        // The first entry changed under us: walk again.
                        continue 'retry;
                    }
                    return Ok(written * blk);
                }
                // Need a next-level table here.
                if level != Self::START
                    && held == 0
                    && !self.reserve::<S>(table, tptr, level, iova, 1, epoch)
                {
                    continue 'retry;
                }
                if level + 1 == 3 && iova & (blk - 1) == 0 && rem >= blk {
                    // A fresh table's run reads no entries: any pointer will do.
                    let run = self.leaf_run(self.root_ptr, 0, 3, iova, pa, blk, true);
                    if run.0 == Self::ENTRIES as u64 {
                        match self.map_whole_last::<S>(&mut path, level, e, iova, pa, attrs, run.1)
                        {
                            Some(Ok(())) => return Ok(blk),
                            Some(Err(e)) => return Err(e),
                            None => continue 'retry,
                        }
                    }
                }
                let Some(new) = self.alloc_table(1, false) else {
                    self.put::<S>(&path, level, iova);
                    return Err(MapError::NoMemory);
                };
                let nptr = self.ptr(new);
                // The (zero) table is visible before its pointer.
                match self.install::<S>(e, new, nptr, level) {
                    Ok(_) => {
                        table = new;
                        tptr = nptr;
                        level += 1;
                        path[level as usize] = table;
                        self.hint_record::<S>(iova, &path, level);
                        held = 1;
                    }
                    Err(cur) => {
                        // Another CPU installed a table (or leaf) first.
                        self.pool.live(new).fetch_or(DEAD, Relaxed);
                        self.pool.free(new, 0);
                        self.put::<S>(&path, level, iova);
                        if !F::is_table(cur, level) {
                            return Err(MapError::Overlap);
                        }
                        continue 'retry;
                    }
                }
            }
        }
    }

    /// Link the table `new` (pointer `nptr`, its entries written) into the
    /// empty entry `e` at `level`, cleaning both for a non-coherent walker.
    /// Release: the table's entries are visible before its pointer. Shared
    /// mode: a compare-and-swap from zero, which fails with what another
    /// CPU installed first.
    #[inline(always)]
    fn install<const S: bool>(
        &self,
        e: &F::Desc,
        new: u64,
        nptr: *const F::Desc,
        level: u32,
    ) -> Result<(), u64> {
        self.clean(nptr, Self::ENTRIES);
        if S {
            e.compare_exchange(0, F::table(new, level), Release, Acquire)?;
        } else {
            e.store(F::table(new, level), Release);
        }
        self.clean(e, 1);
        Ok(())
    }

    /// Map the whole span of the empty entry `e` at `level` (the one above
    /// the last) with a new last-level table written in full (`contig`:
    /// as contiguous groups) before it is linked: no zeroing, no
    /// reservations, one install. The caller holds one reservation on
    /// `path[level]` for `e`. None: another CPU installed a table there
    /// first, walk again.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn map_whole_last<const S: bool>(
        &self,
        path: &mut Path,
        level: u32,
        e: &F::Desc,
        iova: u64,
        pa: u64,
        attrs: u64,
        contig: bool,
    ) -> Option<Result<(), MapError>> {
        let n = Self::ENTRIES;
        let Some(new) = self.alloc_table(n as u64, true) else {
            self.put::<S>(path, level, iova);
            return Some(Err(MapError::NoMemory));
        };
        let nptr = self.ptr(new);
        self.fill::<S>(nptr, 0, n, pa, 3, attrs, contig);
        // The full table is visible before its pointer.
        match self.install::<S>(e, new, nptr, level) {
            Ok(_) => {
                path[level as usize + 1] = new;
                self.hint_record::<S>(iova, path, level + 1);
                Some(Ok(()))
            }
            Err(cur) => {
                self.pool.live(new).fetch_or(DEAD, Relaxed);
                self.pool.free_dirty(new, 0);
                self.put::<S>(path, level, iova);
                if F::is_table(cur, level) {
                    None
                } else {
                    Some(Err(MapError::Overlap))
                }
            }
        }
    }

    /// How many entries from `idx` at `level` one run of leaves takes for
    /// `[iova, iova + rem)` to `pa`, and whether they are contiguous groups
    /// (then a multiple of the group, every entry of them found empty).
    /// Zero: no leaf fits here, descend.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn leaf_run(
        &self,
        tptr: *const F::Desc,
        idx: usize,
        level: u32,
        iova: u64,
        pa: u64,
        rem: u64,
        fresh: bool,
    ) -> (u64, bool) {
        let shift = Derived::<F>::shift(level);
        let blk = 1u64 << shift;
        let room = (Derived::<F>::entries(level) - idx) as u64;
        let mut limit = room;
        if Derived::<F>::HAS_CONTIG {
            let c = Derived::<F>::contig(level);
            if c != 0 {
                let gblk = blk << c;
                if (iova | pa) & (gblk - 1) == 0 && rem >= gblk {
                    let want = (rem >> (shift + c)).min(room >> c);
                    let groups = if fresh {
                        want
                    } else {
                        self.empty_groups(tptr, idx, want, c)
                    };
                    if groups != 0 {
                        return (groups << c, true);
                    }
                } else if (iova ^ pa) & (gblk - 1) == 0 {
                    // Stop at the next group boundary, where a contiguous
                    // leaf may start.
                    limit = (gblk - (iova & (gblk - 1))) >> shift;
                }
            }
        }
        if Derived::<F>::leaf_allowed(level) && (iova | pa) & (blk - 1) == 0 && rem >= blk {
            ((rem >> shift).min(limit), false)
        } else {
            (0, false)
        }
    }

    /// Consecutive groups of `1 << c` entries from `idx` (at most `want`)
    /// whose entries are all empty.
    #[inline(always)]
    fn empty_groups(&self, tptr: *const F::Desc, idx: usize, want: u64, c: u32) -> u64 {
        let mut g = 0;
        while g < want {
            let first = idx + ((g as usize) << c);
            if (0..1usize << c).any(|k| entry(tptr, first + k).load(Relaxed) != 0) {
                break;
            }
            g += 1;
        }
        g
    }

    /// Whether `[pa, pa + len)` lies in one aligned block inside which the
    /// format's leaves are linear ([`Format::LINEAR_OA_WITHIN`]).
    #[inline(always)]
    fn linear_within(pa: u64, len: u64) -> bool {
        let w = F::LINEAR_OA_WITHIN;
        w != 0 && (w >= 64 || pa >> w == (pa + len - 1) >> w)
    }

    /// Write `n` leaves from `idx` at `level` where nobody else writes:
    /// single blocks from `pa` on, or (`contig`) groups of identical
    /// descriptors.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn fill<const S: bool>(
        &self,
        tptr: *const F::Desc,
        idx: usize,
        n: usize,
        pa: u64,
        level: u32,
        attrs: u64,
        contig: bool,
    ) {
        let blk = 1u64 << Derived::<F>::shift(level);
        if Derived::<F>::HAS_CONTIG && contig {
            let c = F::CONTIG[level as usize & 3];
            let gblk = blk << c;
            for g in 0..n >> c {
                let d = F::leaf(pa + g as u64 * gblk, attrs, level, true);
                let first = idx + (g << c);
                if S {
                    for k in 0..1usize << c {
                        entry(tptr, first + k).store(d, Relaxed);
                    }
                } else {
                    // SAFETY: as below; the group lies in the table.
                    unsafe { <F::Desc as Desc>::fill_linear(tptr.add(first), 1 << c, d, 0) };
                }
            }
        } else if S || !(F::LINEAR_OA || Self::linear_within(pa, n as u64 * blk)) {
            for i in 0..n {
                let out = F::leaf(pa + i as u64 * blk, attrs, level, false);
                entry(tptr, idx + i).store(out, Relaxed);
            }
        } else {
            // SAFETY: `idx + n` is within the table (`n` is bounded by the
            // room left in it); an exclusive owner is the only accessor of
            // its tables, so plain stores race with nothing.
            unsafe {
                <F::Desc as Desc>::fill_linear(
                    tptr.add(idx),
                    n,
                    F::leaf(pa, attrs, level, false),
                    blk,
                )
            };
        }
    }

    /// Give back `n` validated reservations on `path[level]`.
    #[cold]
    fn put_n<const S: bool>(
        &self,
        path: &Path,
        tptr: *const F::Desc,
        level: u32,
        iova: u64,
        n: u64,
    ) {
        let mut g = Gather::new();
        self.dec::<S>(path, tptr, level, iova, n, &mut g);
        self.flush(&mut g);
    }

    /// Give back one validated reservation on `path[level]`.
    #[cold]
    fn put<const S: bool>(&self, path: &Path, level: u32, iova: u64) {
        let mut g = Gather::new();
        let tptr = self.table_ptr(path[level as usize], level);
        self.dec::<S>(path, tptr, level, iova, 1, &mut g);
        self.flush(&mut g);
    }
}

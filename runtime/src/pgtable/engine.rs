//! The walk, map, unmap and lookup algorithms. Loops over levels run from
//! the format's constant start level, so the compiler unrolls them.
//!
//! Every algorithm exists in two modes chosen at compile time by `S`:
//! shared (`&self`: atomic read-modify-writes, compare-and-swap installs,
//! re-validation after reserving) and exclusive (`&mut self`: the same
//! tables and counters with plain loads and stores).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering::*};

use super::desc::{self, decode_addr, encode_addr, is_table, leaf_type, table_desc};
use super::format::{Format, Geometry};
use super::pool::{TablePool, COUNT_MASK, DEAD};
use super::tlb::{Gather, TlbOps, PENDING};
use super::MapError;
use crate::prot::Prot;

/// Tables on the way from the root to the current level, by level.
type Path = [u64; 4];

/// In `path[START]`: the path came from the walk hint and only its
/// last-level entry is filled in (no table lives at this address).
const HINTED: u64 = u64::MAX;

/// A translation table of format `F`, with tables from pool `P` and TLB
/// maintenance by `T`.
pub struct PageTable<F: Format, P: TablePool, T: TlbOps> {
    root: u64,
    root_ptr: *const AtomicU64,
    pool: P,
    tlb: T,
    hint: Hint,
    _format: PhantomData<F>,
}

/// The exclusive mode's one-entry walk cache: the path to the last
/// last-level table reached, keyed by `(iova >> its span shift) + 1` (0:
/// empty). Read only by `&mut self` calls; emptied whenever any table is
/// unlinked, so it never names a freed table.
struct Hint {
    key: AtomicU64,
    path: [AtomicU64; 4],
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
        self.pool.free(self.root, Geometry::<F>::ROOT_ORDER);
    }
}

#[inline(always)]
fn entry<'a>(table: *const AtomicU64, idx: usize) -> &'a AtomicU64 {
    // SAFETY: callers pass a pointer from the pool (or the root) for a table
    // at some level and an index from `Geometry::index` for that level, or
    // below `Geometry::entries(level)`; pool memory outlives the table.
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
    const START: u32 = Geometry::<F>::START;

    /// An empty table; the root (with its concatenated tables) comes from
    /// `pool`. Fails only when the pool is exhausted.
    pub fn new(pool: P, tlb: T) -> Result<Self, MapError> {
        #[allow(clippy::let_unit_value)]
        let () = Geometry::<F>::VALID;
        const {
            assert!(
                P::GRANULE_SHIFT == F::GRANULE_SHIFT,
                "pool granule differs from format"
            )
        };
        let root = pool
            .alloc(Geometry::<F>::ROOT_ORDER)
            .ok_or(MapError::NoMemory)?;
        let root_ptr = pool.entries(root);
        if !F::COHERENT_WALK {
            tlb.clean(root_ptr, Geometry::<F>::entries(Self::START));
        }
        Ok(PageTable {
            root,
            root_ptr,
            pool,
            tlb,
            hint: Hint {
                key: AtomicU64::new(0),
                path: [const { AtomicU64::new(0) }; 4],
            },
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

    #[inline(always)]
    fn clean(&self, first: *const AtomicU64, count: usize) {
        if !F::COHERENT_WALK && count != 0 {
            self.tlb.clean(first, count);
        }
    }

    #[inline(always)]
    fn table_ptr(&self, pa: u64, level: u32) -> *const AtomicU64 {
        if level == Self::START {
            self.root_ptr
        } else {
            self.pool.entries(pa)
        }
    }

    /// The table at `level` that maps `iova`, by walking from the root.
    #[inline(always)]
    fn table_at(&self, iova: u64, level: u32) -> Option<u64> {
        let mut pa = self.root;
        let mut ptr = self.root_ptr;
        let mut l = Self::START;
        while l < level {
            let d = entry(ptr, Geometry::<F>::index(l, iova)).load(Acquire);
            if !is_table(d, l) {
                return None;
            }
            pa = decode_addr::<F>(d);
            ptr = self.pool.entries(pa);
            l += 1;
        }
        Some(pa)
    }

    /// Reserve `n` entries of the non-root table `pa` that the walk for
    /// `iova` found at `level`. False if the table is going away or moved:
    /// the caller re-walks.
    #[inline(always)]
    fn reserve<const S: bool>(
        &self,
        pa: u64,
        tptr: *const AtomicU64,
        level: u32,
        iova: u64,
        n: u64,
    ) -> bool {
        let live = self.pool.live_of(pa, tptr);
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
        if self.table_at(iova, level) == Some(pa) {
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

    /// A fresh table with `count` live entries (or reservations), next generation.
    #[inline(always)]
    fn alloc_table(&self, count: u64) -> Option<u64> {
        let pa = self.pool.alloc(0)?;
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
        tptr: *const AtomicU64,
        level: u32,
        iova: u64,
        n: u64,
        g: &mut Gather,
    ) {
        if level == Self::START {
            return;
        }
        let old = live_sub::<S>(self.pool.live_of(path[level as usize], tptr), n);
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
            let e = entry(pptr, Geometry::<F>::index(level - 1, iova));
            e.store(0, Release);
            self.clean(e, 1);
            let span = 1u64 << Geometry::<F>::shift(level - 1);
            self.tlb.inv_walk(iova & !(span - 1), span, Self::G);
            self.pend(pa, g);
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
        (iova >> Geometry::<F>::shift(2)) + 1
    }

    /// Where a walk for `iova` starts: the root, or (exclusive mode, hint
    /// hit) directly at the last-level table. Returns (path, level, table).
    #[inline(always)]
    fn walk_start<const S: bool>(&self, iova: u64) -> (Path, u32, u64, *const AtomicU64) {
        let mut path: Path = [0; 4];
        if !S && Self::START < 3 && self.hint.key.load(Relaxed) == Self::hint_key(iova) {
            // Only the last-level table now; the rest of the path is read
            // from the hint when a retirement needs it (see `resolve`).
            let table = self.hint.path[3].load(Relaxed);
            path[3] = table;
            path[Self::START as usize] = HINTED;
            return (path, 3, table, self.pool.entries(table));
        }
        path[Self::START as usize] = self.root;
        (path, Self::START, self.root, self.root_ptr)
    }

    /// The full path for one that `walk_start` took from the hint. The hint
    /// still holds it: nothing records a new path or frees a table between
    /// a hinted start and the retirement that needs the path.
    #[inline(always)]
    fn resolve(&self, path: &Path) -> Path {
        if path[Self::START as usize] != HINTED {
            return *path;
        }
        let mut full = *path;
        for (f, h) in full
            .iter_mut()
            .zip(&self.hint.path)
            .take(3)
            .skip(Self::START as usize)
        {
            *f = h.load(Relaxed);
        }
        full
    }

    /// Remember the path to a last-level table (exclusive mode only).
    #[inline(always)]
    fn hint_record<const S: bool>(&self, iova: u64, path: &Path, level: u32) {
        if !S && level == 3 && Self::START < 3 {
            for (h, p) in self.hint.path.iter().zip(path) {
                h.store(*p, Relaxed);
            }
            self.hint.key.store(Self::hint_key(iova), Relaxed);
        }
    }

    /// Queue an unlinked table for freeing after the next sync.
    fn pend(&self, pa: u64, g: &mut Gather) {
        self.hint.key.store(0, Relaxed);
        if g.npending == PENDING {
            self.flush(g);
        }
        g.pending[g.npending] = pa;
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
        for &pa in &g.pending[..g.npending] {
            #[cfg(debug_assertions)]
            {
                let p = self.pool.entries(pa);
                debug_assert!(
                    (0..Geometry::<F>::ENTRIES).all(|i| entry(p, i).load(Relaxed) == 0),
                    "freeing a table with live entries"
                );
            }
            self.pool.free(pa, 0);
        }
        g.npending = 0;
    }

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
        let attrs = desc::leaf_attrs::<F>(prot);
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
            let (mut path, mut level, mut table, mut tptr) = self.walk_start::<S>(iova);
            // Reservations we hold on `table` (1 right after installing it).
            let mut held: u64 = 0;
            loop {
                let shift = Geometry::<F>::shift(level);
                let blk = 1u64 << shift;
                let idx = Geometry::<F>::index(level, iova);
                let e = entry(tptr, idx);
                let d = e.load(Acquire);
                if is_table(d, level) {
                    // Only pre-existing tables hold tables, never a fresh one.
                    debug_assert!(held == 0);
                    table = decode_addr::<F>(d);
                    tptr = self.pool.entries(table);
                    level += 1;
                    path[level as usize] = table;
                    self.hint_record::<S>(iova, &path, level);
                    continue;
                }
                if d != 0 {
                    return Err(MapError::Overlap);
                }
                if Geometry::<F>::leaf_allowed(level) && (iova | pa) & (blk - 1) == 0 && rem >= blk
                {
                    let room = (Geometry::<F>::entries(level) - idx) as u64;
                    let n = (rem >> shift).min(room);
                    let bits = attrs | leaf_type(level);
                    if held != 0 {
                        // A table we just installed: our entries are still
                        // zero (nobody else maps in our range), no checks.
                        if n > held {
                            live_add::<S>(self.pool.live_of(table, tptr), n - held);
                        }
                        self.fill::<S>(tptr, idx, n as usize, pa, blk, bits);
                        self.clean(e, n as usize);
                        return Ok(n * blk);
                    }
                    if level != Self::START && !self.reserve::<S>(table, tptr, level, iova, n) {
                        continue 'retry;
                    }
                    let mut written = 0;
                    while written < n {
                        let ei = entry(tptr, idx + written as usize);
                        if ei.load(Relaxed) != 0 {
                            break;
                        }
                        ei.store(encode_addr::<F>(pa + written * blk) | bits, Relaxed);
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
                            live_sub::<S>(self.pool.live_of(table, tptr), n - written);
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
                    && !self.reserve::<S>(table, tptr, level, iova, 1)
                {
                    continue 'retry;
                }
                let Some(new) = self.alloc_table(1) else {
                    self.put::<S>(&path, level, iova);
                    return Err(MapError::NoMemory);
                };
                let nptr = self.pool.entries(new);
                self.clean(nptr, Geometry::<F>::ENTRIES);
                // Release: the (zero) table is visible before its pointer.
                let installed = if S {
                    e.compare_exchange(0, table_desc::<F>(new), Release, Acquire)
                } else {
                    e.store(table_desc::<F>(new), Release);
                    Ok(0)
                };
                match installed {
                    Ok(_) => {
                        self.clean(e, 1);
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
                        if !is_table(cur, level) {
                            return Err(MapError::Overlap);
                        }
                        continue 'retry;
                    }
                }
            }
        }
    }

    /// Write `n` leaves from `idx` where nobody else writes.
    #[inline(always)]
    fn fill<const S: bool>(
        &self,
        tptr: *const AtomicU64,
        idx: usize,
        n: usize,
        pa: u64,
        blk: u64,
        bits: u64,
    ) {
        if Geometry::<F>::OA52 || S {
            for i in 0..n {
                let out = encode_addr::<F>(pa + i as u64 * blk) | bits;
                entry(tptr, idx + i).store(out, Relaxed);
            }
        } else {
            // SAFETY: `idx + n` is within the table (`n` is bounded by the
            // room left in it); an exclusive owner is the only accessor of
            // its tables, so plain stores race with nothing. `AtomicU64` has
            // the layout of `u64` and its value lives in an `UnsafeCell`.
            let s = unsafe {
                core::slice::from_raw_parts_mut(tptr.cast_mut().cast::<u64>().add(idx), n)
            };
            let first = pa | bits;
            for (i, d) in s.iter_mut().enumerate() {
                *d = first + i as u64 * blk;
            }
        }
    }

    /// Give back `n` validated reservations on `path[level]`.
    #[cold]
    fn put_n<const S: bool>(
        &self,
        path: &Path,
        tptr: *const AtomicU64,
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
    fn unmap_inner<const S: bool>(&self, iova: u64, size: u64) -> u64 {
        if size == 0 || (iova | size) & (Self::G - 1) != 0 {
            return 0;
        }
        let end = match iova.checked_add(size) {
            Some(end) if end <= 1u64 << F::IAS => end,
            _ => return 0,
        };
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

    /// Unmap a prefix of `[iova, iova + rem)`: returns (bytes advanced, bytes
    /// unmapped), or None when a split found the pool empty.
    #[inline(always)]
    fn unmap_step<const S: bool>(&self, iova: u64, rem: u64, g: &mut Gather) -> Option<(u64, u64)> {
        'retry: loop {
            let (mut path, mut level, mut table, mut tptr) = self.walk_start::<S>(iova);
            let mut w = 0;
            loop {
                let shift = Geometry::<F>::shift(level);
                let blk = 1u64 << shift;
                let off = iova & (blk - 1);
                let idx = Geometry::<F>::index(level, iova);
                let e = entry(tptr, idx);
                let d = e.load(Acquire);
                if d == 0 {
                    return Some(((blk - off).min(rem), 0));
                }
                let whole = off == 0 && rem >= blk;
                if is_table(d, level) {
                    let child = decode_addr::<F>(d);
                    if !whole {
                        table = child;
                        tptr = self.pool.entries(child);
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
                    let bytes = self.clear_subtree::<S>(child, level + 1, iova, g);
                    self.dec::<S>(&path, tptr, level, iova, 1, g);
                    return Some((blk, bytes));
                }
                if whole {
                    if !self.still_there::<S>(table, level, iova, w) {
                        continue 'retry;
                    }
                    let room = (Geometry::<F>::entries(level) - idx) as u64;
                    let n = (rem >> shift).min(room);
                    let mut i = 0;
                    let mut cleared = 0;
                    while i < n {
                        let ei = entry(tptr, idx + i as usize);
                        let di = ei.load(Relaxed);
                        if is_table(di, level) {
                            break;
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
                let new = self.alloc_table(Geometry::<F>::ENTRIES as u64)?;
                let nptr = self.pool.entries(new);
                let sub = 1u64 << Geometry::<F>::shift(level + 1);
                let base = decode_addr::<F>(d);
                let attrs = desc::attrs_of::<F>(d) | leaf_type(level + 1);
                for i in 0..Geometry::<F>::ENTRIES {
                    let out = encode_addr::<F>(base + i as u64 * sub) | attrs;
                    entry(nptr, i).store(out, Relaxed);
                }
                self.clean(nptr, Geometry::<F>::ENTRIES);
                // Break-before-make: the block must be gone from every TLB
                // before the table that replaces it becomes visible.
                e.store(0, Release);
                self.clean(e, 1);
                self.tlb.inv_range(iova - off, blk, blk, true);
                self.tlb.sync();
                e.store(table_desc::<F>(new), Release);
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

    /// Clear every entry below the unlinked table `top` (at `level`, mapping
    /// from `base`), queue its tables for freeing, and return the bytes that
    /// were mapped. Iterative: the depth is at most three tables. The caller
    /// gathers the leaf invalidation for the whole span.
    fn clear_subtree<const S: bool>(&self, top: u64, level: u32, base: u64, g: &mut Gather) -> u64 {
        // (table, level, next index, base iova)
        let mut stack: [(u64, u32, usize, u64); 4] = [(0, 0, 0, 0); 4];
        stack[0] = (top, level, 0, base);
        let mut sp = 1;
        let mut bytes = 0;
        while sp != 0 {
            let (pa, l, i, b) = stack[sp - 1];
            let ptr = self.pool.entries(pa);
            let i = if l == 3 {
                // A last-level table holds only pages: count and clear in one pass.
                bytes += (self.clear_leaves::<S>(ptr) as u64) << F::GRANULE_SHIFT;
                Geometry::<F>::ENTRIES
            } else {
                i
            };
            if i == Geometry::<F>::ENTRIES {
                self.clean(ptr, Geometry::<F>::ENTRIES);
                self.pool.live(pa).fetch_or(DEAD, AcqRel);
                self.pend(pa, g);
                sp -= 1;
                continue;
            }
            stack[sp - 1].2 = i + 1;
            let e = entry(ptr, i);
            let d = e.load(Relaxed);
            if d == 0 {
                continue;
            }
            e.store(0, Relaxed);
            let shift = Geometry::<F>::shift(l);
            if is_table(d, l) {
                stack[sp] = (decode_addr::<F>(d), l + 1, 0, b + ((i as u64) << shift));
                sp += 1;
            } else {
                bytes += 1 << shift;
            }
        }
        bytes
    }

    /// Clear a last-level table; returns how many entries were valid.
    #[inline(always)]
    fn clear_leaves<const S: bool>(&self, tptr: *const AtomicU64) -> usize {
        if S {
            let mut n = 0;
            for i in 0..Geometry::<F>::ENTRIES {
                let e = entry(tptr, i);
                if e.load(Relaxed) != 0 {
                    e.store(0, Relaxed);
                    n += 1;
                }
            }
            n
        } else {
            // SAFETY: a whole table from the pool, unlinked and owned by the
            // exclusive caller (see `fill`).
            let s = unsafe {
                core::slice::from_raw_parts_mut(
                    tptr.cast_mut().cast::<u64>(),
                    Geometry::<F>::ENTRIES,
                )
            };
            let n = s.iter().filter(|d| **d != 0).count();
            s.fill(0);
            n
        }
    }

    /// The physical address `iova` translates to, if mapped.
    #[inline]
    pub fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        if iova >> F::IAS != 0 {
            return None;
        }
        let mut ptr = self.root_ptr;
        let mut level = Self::START;
        loop {
            let d = entry(ptr, Geometry::<F>::index(level, iova)).load(Acquire);
            if d == 0 {
                return None;
            }
            if is_table(d, level) {
                ptr = self.pool.entries(decode_addr::<F>(d));
                level += 1;
                continue;
            }
            let mask = (1u64 << Geometry::<F>::shift(level)) - 1;
            return Some(decode_addr::<F>(d) + (iova & mask));
        }
    }

    /// Live-entry count of the table mapping `iova` at `level` (tests).
    #[doc(hidden)]
    pub fn live_entries(&self, iova: u64, level: u32) -> Option<u64> {
        let pa = self.table_at(iova, level)?;
        Some(self.pool.live(pa).load(Relaxed) & COUNT_MASK)
    }
}

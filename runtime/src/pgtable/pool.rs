//! Table memory: where translation tables come from, and the per-table
//! live-entry counters the engine uses to give empty tables back.
//!
//! Descriptors hold *physical* addresses that must fit the OAS, so a pool
//! translates between a table's physical address and a pointer to it. On
//! bare metal that is identity or a fixed offset; on a host (tests,
//! benchmarks) pointers lie above 2^44, so the pool is placed at a
//! caller-chosen physical base.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Bit of a live-entry word marking a table that is being (or has been)
/// given back: nobody may add entries to it any more.
pub const DEAD: u64 = 1 << 31;
/// Low bits of a live-entry word: live entries plus in-flight reservations
/// plus the unused credits of CPU handles, and (from [`HOLDER_ONE`] up) the
/// number of handles holding credits. A table is retired only when all of
/// it is zero.
pub const COUNT_MASK: u64 = DEAD - 1;
/// One handle holding credits on a table (see `engine::handle`): while any
/// does, the count is not the number of entries, and nothing can retire the
/// table by its count.
pub const HOLDER_ONE: u64 = 1 << 20;
/// A live-entry word's generation advances by this on every allocation, so a
/// late reservation on a reused table can be told from a current one.
pub const GEN_ONE: u64 = 1 << 32;

/// Memory for translation tables.
///
/// # Safety
/// For every physical address returned by `alloc` and until it is passed to
/// `free`, `entries` must return a pointer to `(1 << order) * granule` bytes
/// of zeroed-at-allocation, granule-aligned memory readable and writable as
/// `AtomicU64`s, and `live` a counter used for nothing else. Memory of freed
/// tables must stay readable (the engine may read a just-freed table while a
/// concurrent walk finds out it has gone), and allocated tables must be
/// aligned to their total size with their physical address inside the OAS.
pub unsafe trait TablePool {
    /// log2 of the size in bytes of one table slot: a non-root table of the
    /// format (the granule for LPAE, 1 KiB for ARMv7 short descriptors).
    const GRANULE_SHIFT: u32;
    /// `1 << order` contiguous all-zero slots, aligned to their total size.
    /// Order > 0 is only asked for roots larger than a slot (concatenated
    /// stage-2 roots, the 16 KiB ARMv7 first level).
    fn alloc(&self, order: u32) -> Option<u64>;
    /// [`alloc`](Self::alloc) for a caller that writes every entry before
    /// anyone can see the table: the memory may hold stale entries of a
    /// table given back by [`free_dirty`](Self::free_dirty). By default
    /// the same as `alloc`.
    #[inline(always)]
    fn alloc_unzeroed(&self, order: u32) -> Option<u64> {
        self.alloc(order)
    }
    /// Give back tables from `alloc`; every entry is zero again.
    fn free(&self, pa: u64, order: u32);
    /// Give back tables from `alloc` whose entries may still be set: the
    /// pool zeroes them before `alloc` hands them out again. The engine
    /// retires a subtree an unmap covers whole this way, so the unmap
    /// costs a visit per table instead of a store per entry. By default
    /// the entries are zeroed now.
    fn free_dirty(&self, pa: u64, order: u32) {
        zero_table(
            self.entries(pa),
            (1usize << (Self::GRANULE_SHIFT + order)) / 8,
        );
        self.free(pa, order);
    }
    /// Pointer to the first entry of the table at `pa`.
    fn entries(&self, pa: u64) -> *const AtomicU64;
    /// The live-entry word of the table at `pa` (see [`DEAD`], [`GEN_ONE`]).
    fn live(&self, pa: u64) -> &AtomicU64;
    /// [`live`](Self::live) when the caller also has the table's pointer
    /// (`entries(pa)`), which some pools index by more cheaply.
    #[inline(always)]
    fn live_of(&self, pa: u64, table: *const AtomicU64) -> &AtomicU64 {
        let _ = table;
        self.live(pa)
    }
    /// Tables currently allocated (for accounting and tests).
    fn in_use(&self) -> usize;
}

// SAFETY: forwards to a pool that upholds the contract.
unsafe impl<P: TablePool> TablePool for &P {
    const GRANULE_SHIFT: u32 = P::GRANULE_SHIFT;
    #[inline(always)]
    fn alloc(&self, order: u32) -> Option<u64> {
        (**self).alloc(order)
    }
    #[inline(always)]
    fn free(&self, pa: u64, order: u32) {
        (**self).free(pa, order)
    }
    #[inline(always)]
    fn free_dirty(&self, pa: u64, order: u32) {
        (**self).free_dirty(pa, order)
    }
    #[inline(always)]
    fn alloc_unzeroed(&self, order: u32) -> Option<u64> {
        (**self).alloc_unzeroed(order)
    }
    #[inline(always)]
    fn entries(&self, pa: u64) -> *const AtomicU64 {
        (**self).entries(pa)
    }
    #[inline(always)]
    fn live(&self, pa: u64) -> &AtomicU64 {
        (**self).live(pa)
    }
    #[inline(always)]
    fn live_of(&self, pa: u64, table: *const AtomicU64) -> &AtomicU64 {
        (**self).live_of(pa, table)
    }
    fn in_use(&self) -> usize {
        (**self).in_use()
    }
}

/// Zero `words` 8-byte words from `first`, the memory of a freed table.
///
/// Atomic stores, not a plain `memset`: a walk that read the table's
/// address before it was retired may still load from it (it then finds
/// the table dead and walks again), and plain stores would race with it.
#[inline]
fn zero_table(first: *const AtomicU64, words: usize) {
    for i in 0..words {
        // SAFETY: `first` is a table of the pool, `words` of it long, and
        // pool memory stays readable and writable for the pool's life.
        unsafe { &*first.add(i) }.store(0, Ordering::Relaxed);
    }
}

/// A table's live-entry word on a cache line of its own.
///
/// Tables of neighbouring slots usually belong to different callers (two
/// CPUs mapping disjoint ranges take slots in turn), and every map and
/// unmap of a page updates its table's word: packed eight to a line, the
/// words would bounce between the CPUs' caches on every call. 64 bytes per
/// table is 1/64 of a 4K table's memory.
#[repr(C, align(64))]
pub struct LiveWord(pub AtomicU64);

impl LiveWord {
    /// A zero word.
    pub const fn new() -> Self {
        LiveWord(AtomicU64::new(0))
    }
}

impl Default for LiveWord {
    fn default() -> Self {
        Self::new()
    }
}

/// Fields written on every allocation and free, kept off the cache line of
/// what every walk reads (the physical offset).
#[repr(C, align(64))]
struct AllocState {
    /// Free lists of runs of `1 << order` slots, by order (orders above 0
    /// only for roots larger than a table: LPAE's concatenated stage-2
    /// roots, up to 16 slots, and short-descriptor first levels, up to 64
    /// at MediaTek's 34-bit input): `tag << 32 | (slot + 1)`, 0 in the low
    /// half when empty.
    free_head: [AtomicU64; 7],
    bump: AtomicUsize,
    in_use: AtomicUsize,
}

/// One non-root table of descriptors (`1 << SHIFT` bytes, viewed as
/// `AtomicU64`s whatever the format's entry width), aligned to its size.
///
/// # Safety
/// Implementors are `repr(C)` arrays of `1 << (SHIFT - 3)` `AtomicU64`s
/// aligned to `1 << SHIFT`.
pub unsafe trait TableMem: Sized + Sync {
    const SHIFT: u32;
    const ZERO: Self;
}

macro_rules! table_mem {
    ($(#[$m:meta])* $name:ident, $shift:expr, $align:literal) => {
        $(#[$m])*
        #[repr(C, align($align))]
        pub struct $name([AtomicU64; 1 << ($shift - 3)]);
        // SAFETY: repr(C) array of 8-byte atomics, aligned to the granule.
        unsafe impl TableMem for $name {
            const SHIFT: u32 = $shift;
            const ZERO: Self = $name([const { AtomicU64::new(0) }; 1 << ($shift - 3)]);
        }
    };
}
table_mem!(/// A 1 KiB table (ARMv7 short-descriptor second level; the 16 KiB
    /// first level takes 16 of them).
    Table1K, 10, 1024);
table_mem!(/// A 4K-granule table.
    Table4K, 12, 4096);
table_mem!(/// A 16K-granule table.
    Table16K, 14, 16384);
table_mem!(/// A 64K-granule table.
    Table64K, 16, 65536);

/// A fixed pool of `N` tables usable in a `static` (no heap).
///
/// Allocation is lock-free: never-used slots come from a bump index, freed
/// slots go on a Treiber stack whose head carries a tag against ABA.
pub struct StaticPool<T: TableMem, const N: usize> {
    tables: [T; N],
    live: [LiveWord; N],
    next: [AtomicU32; N],
    /// Slots given back by `free_dirty`, zeroed when next allocated.
    dirty: [AtomicBool; N],
    state: AllocState,
    /// Physical address minus pointer (wrapping); 0 for identity. Read by
    /// every walk, written once: on a line of its own (see [`AllocState`]).
    offset: LiveWord,
}

impl<T: TableMem, const N: usize> Default for StaticPool<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: TableMem, const N: usize> StaticPool<T, N> {
    /// An empty pool whose physical addresses equal its pointers.
    pub const fn new() -> Self {
        StaticPool {
            tables: [const { T::ZERO }; N],
            live: [const { LiveWord::new() }; N],
            next: [const { AtomicU32::new(0) }; N],
            dirty: [const { AtomicBool::new(false) }; N],
            state: AllocState {
                free_head: [const { AtomicU64::new(0) }; 7],
                bump: AtomicUsize::new(0),
                in_use: AtomicUsize::new(0),
            },
            offset: LiveWord::new(),
        }
    }

    /// Place the pool at physical address `base` (aligned to the pool's
    /// largest allocation, e.g. 16 granules). Call before the first `alloc`.
    pub fn set_phys_base(&self, base: u64) {
        let ptr = self.tables.as_ptr() as u64;
        self.offset
            .0
            .store(base.wrapping_sub(ptr), Ordering::Relaxed);
    }

    /// Physical address of the first table.
    pub fn phys_base(&self) -> u64 {
        (self.tables.as_ptr() as u64).wrapping_add(self.offset.0.load(Ordering::Relaxed))
    }

    /// Whether the slot holding `pa` was given back by `free_dirty` and not
    /// handed out since: its memory is stale entries that the next `alloc`
    /// zeroes. A test comparing raw memory reads such a slot as zero, as
    /// the pool will hand it out.
    pub fn is_dirty(&self, pa: u64) -> bool {
        let slot = (pa.wrapping_sub(self.phys_base()) >> T::SHIFT) as usize;
        slot < N && self.dirty[slot].load(Ordering::Relaxed)
    }

    /// The raw pool memory, e.g. for a reference walker reading descriptors.
    pub fn memory(&self) -> (*const u8, usize) {
        (self.tables.as_ptr().cast(), N << T::SHIFT)
    }

    #[inline(always)]
    fn slot(&self, pa: u64) -> usize {
        let off = pa.wrapping_sub(self.phys_base());
        let slot = (off >> T::SHIFT) as usize;
        debug_assert!(slot < N, "table address outside the pool");
        slot
    }

    #[inline(always)]
    fn pa_of(&self, slot: usize) -> u64 {
        self.phys_base() + ((slot as u64) << T::SHIFT)
    }

    fn pop_free(&self, order: usize) -> Option<usize> {
        let list = &self.state.free_head[order];
        let mut head = list.load(Ordering::Acquire);
        loop {
            let idx = (head & 0xffff_ffff) as usize;
            if idx == 0 {
                return None;
            }
            let slot = idx - 1;
            let next = u64::from(self.next[slot].load(Ordering::Relaxed));
            let new = ((head >> 32).wrapping_add(1) << 32) | next;
            match list.compare_exchange_weak(head, new, Ordering::Acquire, Ordering::Acquire) {
                Ok(_) => return Some(slot),
                Err(h) => head = h,
            }
        }
    }

    fn push_free(&self, slot: usize, order: usize) {
        let list = &self.state.free_head[order];
        let mut head = list.load(Ordering::Relaxed);
        loop {
            self.next[slot].store(head as u32, Ordering::Relaxed);
            let new = ((head >> 32).wrapping_add(1) << 32) | (slot as u64 + 1);
            match list.compare_exchange_weak(head, new, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }

    /// Slots for an allocation of `1 << order`, and whether the first was
    /// given back dirty (only single slots are).
    fn take(&self, order: u32) -> Option<(usize, bool)> {
        if order >= self.state.free_head.len() as u32 {
            return None;
        }
        let slot = match self.pop_free(order as usize) {
            Some(s) => s,
            None => self.bump_alloc(1 << order)?,
        };
        // Acquire (with the free list's): `free_dirty`'s flag is seen.
        let dirty = order == 0 && self.dirty[slot].swap(false, Ordering::Acquire);
        self.state.in_use.fetch_add(1 << order, Ordering::Relaxed);
        Some((slot, dirty))
    }

    /// `count` contiguous never-used slots aligned to `count`; slots skipped
    /// for alignment go on the free list.
    fn bump_alloc(&self, count: usize) -> Option<usize> {
        let mut cur = self.state.bump.load(Ordering::Relaxed);
        loop {
            let start = cur.next_multiple_of(count);
            if start + count > N {
                return None;
            }
            match self.state.bump.compare_exchange_weak(
                cur,
                start + count,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    for s in cur..start {
                        self.push_free(s, 0);
                    }
                    return Some(start);
                }
                Err(c) => cur = c,
            }
        }
    }
}

// SAFETY: tables are zero when handed out (statics start zeroed; the engine
// frees only all-zero tables), granule-aligned by `T`, never unmapped, and
// each slot has its own live word.
unsafe impl<T: TableMem, const N: usize> TablePool for StaticPool<T, N> {
    const GRANULE_SHIFT: u32 = T::SHIFT;

    fn alloc(&self, order: u32) -> Option<u64> {
        let (slot, dirty) = self.take(order)?;
        if dirty {
            zero_table(self.tables[slot..].as_ptr().cast(), 1 << (T::SHIFT - 3));
        }
        Some(self.pa_of(slot))
    }

    fn alloc_unzeroed(&self, order: u32) -> Option<u64> {
        Some(self.pa_of(self.take(order)?.0))
    }

    fn free(&self, pa: u64, order: u32) {
        let slot = self.slot(pa);
        self.push_free(slot, order as usize);
        self.state.in_use.fetch_sub(1 << order, Ordering::Relaxed);
    }

    fn free_dirty(&self, pa: u64, order: u32) {
        if order != 0 {
            zero_table(self.entries(pa), 1 << (T::SHIFT - 3 + order));
        } else {
            self.dirty[self.slot(pa)].store(true, Ordering::Relaxed);
        }
        self.free(pa, order);
    }

    #[inline(always)]
    fn entries(&self, pa: u64) -> *const AtomicU64 {
        // The pool's own pointer with the address changed, so the result
        // keeps its provenance (no integer-to-pointer cast).
        let addr = pa.wrapping_sub(self.offset.0.load(Ordering::Relaxed)) as usize;
        self.tables.as_ptr().cast::<AtomicU64>().with_addr(addr)
    }

    #[inline(always)]
    fn live(&self, pa: u64) -> &AtomicU64 {
        let slot = self.slot(pa).min(N - 1);
        &self.live[slot].0
    }

    #[inline(always)]
    fn live_of(&self, _pa: u64, table: *const AtomicU64) -> &AtomicU64 {
        // By pointer: no dependency on the physical offset.
        let slot = (table as usize).wrapping_sub(self.tables.as_ptr() as usize) >> T::SHIFT;
        &self.live[slot.min(N - 1)].0
    }

    fn in_use(&self) -> usize {
        self.state.in_use.load(Ordering::Relaxed)
    }
}

/// A caller's page allocator, for [`PageAllocPool`].
///
/// # Safety
/// `alloc_pages` returns `bytes` of memory aligned to `bytes`, writable, not
/// used elsewhere until `free_pages`; `phys_to_virt` maps its physical
/// addresses back to pointers; freed memory stays readable.
pub unsafe trait PageAllocator {
    /// Allocate `bytes` (a power of two) aligned to `bytes`: (pointer, physical).
    fn alloc_pages(&self, bytes: usize) -> Option<(NonNull<u8>, u64)>;
    fn free_pages(&self, pa: u64, bytes: usize);
    fn phys_to_virt(&self, pa: u64) -> *mut u8;
}

/// Tables from a caller-provided page allocator. Live-entry words live in a
/// caller-provided array of [`LiveWord`]s (a line each, see there) indexed by `(pa - phys_base) >> granule_shift`, so
/// the allocator must hand out pages from `[phys_base, phys_base +
/// live.len() << shift)`; pages outside it are returned and the allocation
/// fails.
pub struct PageAllocPool<'a, A: PageAllocator, const SHIFT: u32> {
    alloc: A,
    phys_base: u64,
    live: &'a [LiveWord],
    in_use: AtomicUsize,
}

impl<'a, A: PageAllocator, const SHIFT: u32> PageAllocPool<'a, A, SHIFT> {
    pub fn new(alloc: A, phys_base: u64, live: &'a [LiveWord]) -> Self {
        PageAllocPool {
            alloc,
            phys_base,
            live,
            in_use: AtomicUsize::new(0),
        }
    }
}

// SAFETY: the allocator's contract gives aligned, exclusive memory; we zero
// it before handing it out and give each table its own live word.
unsafe impl<A: PageAllocator, const SHIFT: u32> TablePool for PageAllocPool<'_, A, SHIFT> {
    const GRANULE_SHIFT: u32 = SHIFT;

    fn alloc(&self, order: u32) -> Option<u64> {
        let bytes = 1usize << (SHIFT + order);
        let (ptr, pa) = self.alloc.alloc_pages(bytes)?;
        let first = (pa.wrapping_sub(self.phys_base) >> SHIFT) as usize;
        if pa < self.phys_base || first + (1 << order) > self.live.len() {
            self.alloc.free_pages(pa, bytes);
            return None;
        }
        // SAFETY: the allocator gave us `bytes` writable bytes at `ptr`.
        unsafe { core::ptr::write_bytes(ptr.as_ptr(), 0, bytes) };
        self.in_use.fetch_add(1 << order, Ordering::Relaxed);
        Some(pa)
    }

    fn free(&self, pa: u64, order: u32) {
        self.alloc.free_pages(pa, 1usize << (SHIFT + order));
        self.in_use.fetch_sub(1 << order, Ordering::Relaxed);
    }

    /// `alloc` zeroes every table it hands out, so nothing to do first.
    fn free_dirty(&self, pa: u64, order: u32) {
        self.free(pa, order);
    }

    #[inline(always)]
    fn entries(&self, pa: u64) -> *const AtomicU64 {
        self.alloc.phys_to_virt(pa).cast_const().cast()
    }

    #[inline(always)]
    fn live(&self, pa: u64) -> &AtomicU64 {
        let i = (pa.wrapping_sub(self.phys_base) >> SHIFT) as usize;
        &self.live[i.min(self.live.len() - 1)].0
    }

    fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }
}

// SAFETY: forwards to an allocator that upholds the contract.
unsafe impl<A: PageAllocator> PageAllocator for &A {
    fn alloc_pages(&self, bytes: usize) -> Option<(NonNull<u8>, u64)> {
        (**self).alloc_pages(bytes)
    }
    fn free_pages(&self, pa: u64, bytes: usize) {
        (**self).free_pages(pa, bytes)
    }
    fn phys_to_virt(&self, pa: u64) -> *mut u8 {
        (**self).phys_to_virt(pa)
    }
}

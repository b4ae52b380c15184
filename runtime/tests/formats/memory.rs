//! Reading a pool's raw table memory the way a walker does: one entry at a
//! physical address, 32 or 64 bits wide. The engine is not asked.

use iommugen_runtime::pgtable::{StaticPool, TableMem};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The width of one table entry.
pub trait Word: Copy + Debug + Default + Eq + Into<u64> + 'static {
    /// Bytes of one entry (4 or 8).
    const BYTES: usize;
    /// Load the entry at `ptr`.
    ///
    /// # Safety
    /// `ptr` points into pool memory (atomics) and is `BYTES`-aligned.
    unsafe fn load(ptr: *const u8) -> Self;
}

impl Word for u32 {
    const BYTES: usize = 4;
    unsafe fn load(ptr: *const u8) -> Self {
        // SAFETY: the caller's promise; pool memory is atomics, so an
        // atomic load is the right kind of access.
        unsafe { (*ptr.cast::<AtomicU32>()).load(Ordering::Relaxed) }
    }
}

impl Word for u64 {
    const BYTES: usize = 8;
    unsafe fn load(ptr: *const u8) -> Self {
        // SAFETY: as for `u32`.
        unsafe { (*ptr.cast::<AtomicU64>()).load(Ordering::Relaxed) }
    }
}

/// Reads one `W` entry from a pool's memory by physical address; panics
/// outside the pool or unaligned (an engine pointer gone astray).
pub fn reader<W: Word, T: TableMem, const N: usize>(
    pool: &StaticPool<T, N>,
) -> impl Fn(u64) -> W + '_ {
    let (mem, len) = pool.memory();
    let base = pool.phys_base();
    move |pa: u64| {
        let off = pa.checked_sub(base).expect("entry below the pool") as usize;
        assert!(off + W::BYTES <= len, "entry beyond the pool: {pa:#x}");
        assert!(off % W::BYTES == 0, "unaligned entry: {pa:#x}");
        // SAFETY: in bounds and aligned (checked above; the pool is table
        // aligned); pool memory is atomics.
        unsafe { W::load(mem.add(off)) }
    }
}

/// Every entry of the pool, to compare table memory before and after.
pub fn snapshot<W: Word, T: TableMem, const N: usize>(pool: &StaticPool<T, N>) -> Vec<W> {
    let (_, len) = pool.memory();
    let read = reader::<W, T, N>(pool);
    let base = pool.phys_base();
    // A slot given back dirty is zero to whoever gets it next.
    (0..(len / W::BYTES) as u64)
        .map(|i| base + i * W::BYTES as u64)
        .map(|pa| {
            if pool.is_dirty(pa) {
                W::default()
            } else {
                read(pa)
            }
        })
        .collect()
}

/// [`reader`] for 32-bit entries, for tests that name no adapter.
pub fn reader32<T: TableMem, const N: usize>(pool: &StaticPool<T, N>) -> impl Fn(u64) -> u32 + '_ {
    reader(pool)
}

/// [`reader`] for 64-bit entries.
pub fn reader64<T: TableMem, const N: usize>(pool: &StaticPool<T, N>) -> impl Fn(u64) -> u64 + '_ {
    reader(pool)
}

//! Memory shared with the SMMU: caller-provided slices with the physical
//! address the SMMU sees, volatile accessors, and the ordered publication of
//! 64-byte structures (STEs, context descriptors) whose dword 0 holds the
//! valid bit and the configuration.

use core::marker::PhantomData;
use core::ptr::NonNull;

use super::cache;

/// Memory shared with the SMMU: `len` entries of `T` at a known physical
/// address. Accesses go through volatile reads and writes because the SMMU
/// reads (and, for the event queue, writes) it behind the compiler's back.
#[derive(Debug)]
pub struct DmaSlice<'a, T> {
    ptr: NonNull<T>,
    len: usize,
    phys: u64,
    _owner: PhantomData<&'a mut [T]>,
}

/// Which dword of a 64-byte structure is stored first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Publish {
    /// Dwords 1..7, a barrier, then dword 0: for making an entry valid (or
    /// translating) while the old dword 0 tells the SMMU to ignore the rest.
    Dword0Last,
    /// Dword 0, a barrier, then dwords 1..7: for making an entry abort or
    /// invalid, after which the SMMU ignores dwords 1..7.
    Dword0First,
}

impl<'a, T: Copy> DmaSlice<'a, T> {
    /// `phys` is where the SMMU sees `entries[0]`.
    pub fn new(entries: &'a mut [T], phys: u64) -> DmaSlice<'a, T> {
        let len = entries.len();
        DmaSlice {
            ptr: NonNull::from(entries).cast(),
            len,
            phys,
            _owner: PhantomData,
        }
    }

    /// For kernels that run with physical = virtual addresses. The address
    /// is read from the pointer that is kept (one borrow), so a model that
    /// resolves it through that pointer keeps its provenance.
    pub fn identity(entries: &'a mut [T]) -> DmaSlice<'a, T> {
        let len = entries.len();
        let ptr: NonNull<T> = NonNull::from(entries).cast();
        DmaSlice {
            ptr,
            len,
            phys: ptr.as_ptr().addr() as u64,
            _owner: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// The CPU's pointer to entry 0 (for a register model that plays the
    /// SMMU's side of this memory in tests).
    #[cfg(test)]
    pub(crate) fn cpu_ptr(&self) -> NonNull<T> {
        self.ptr
    }

    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        (self.len * core::mem::size_of::<T>()) as u64
    }

    pub fn read(&self, i: usize) -> Option<T> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i` is in bounds of the slice this was built from, which
        // `'a` keeps alive and exclusively ours (shared only with the SMMU).
        Some(unsafe { core::ptr::read_volatile(self.ptr.as_ptr().add(i)) })
    }

    pub fn write(&mut self, i: usize, value: T) -> bool {
        if i >= self.len {
            return false;
        }
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(self.ptr.as_ptr().add(i), value) };
        true
    }

    /// Cleans entry `i` (or the whole slice) to the point of coherency.
    pub(crate) fn clean(&self, i: Option<usize>) {
        let size = core::mem::size_of::<T>();
        match i {
            Some(i) if i < self.len => {
                // SAFETY: only an address inside the slice is formed.
                let p = unsafe { self.ptr.as_ptr().add(i) };
                cache::clean(p as *const u8, size);
            }
            Some(_) => {}
            None => cache::clean(self.ptr.as_ptr() as *const u8, self.len * size),
        }
    }

    /// Makes the next read of entry `i` see what the device wrote.
    pub(crate) fn invalidate(&self, i: usize) {
        if i < self.len {
            // SAFETY: only an address inside the slice is formed.
            let p = unsafe { self.ptr.as_ptr().add(i) };
            cache::invalidate(p as *const u8, core::mem::size_of::<T>());
        }
    }

    /// Log2 of the length, if it is a power of two.
    pub(crate) fn log2_len(&self) -> Option<u8> {
        if self.len.is_power_of_two() {
            Some(self.len.trailing_zeros() as u8)
        } else {
            None
        }
    }

    /// The physical address is aligned to the larger of `min` and the size.
    pub(crate) fn aligned_to_size(&self, min: u64) -> bool {
        let align = self.bytes().max(min);
        align.is_power_of_two() && self.phys % align == 0
    }

    /// Stores the 64-byte structure `words` as entry `i`, each dword in one
    /// 64-bit store, in `order`, with a barrier between dword 0 and the rest
    /// and after the last. Without `coherent`, each phase is also cleaned to
    /// the point of coherency before the next. `T` must be 64 bytes.
    pub(crate) fn publish(
        &mut self,
        i: usize,
        words: [u64; 8],
        order: Publish,
        coherent: bool,
    ) -> bool {
        const { assert!(core::mem::size_of::<T>() == 64) };
        if i >= self.len {
            return false;
        }
        // SAFETY: `i` is in bounds; `T` is 64 bytes, so entry `i` is eight
        // dwords (STEs and CDs are 64-byte aligned `[u64; 8]`).
        let p = unsafe { self.ptr.as_ptr().add(i) }.cast::<u64>();
        let store = |k: usize| {
            // SAFETY: `k < 8`, inside entry `i`.
            let q = unsafe { p.add(k) };
            // SAFETY: as above; aligned because `T` holds `u64`s.
            unsafe { core::ptr::write_volatile(q, words[k]) };
            #[cfg(test)]
            super::fake::record_store(q.addr(), words[k]);
        };
        let phase = |from: usize, to: usize| {
            for k in from..to {
                store(k);
            }
            if coherent {
                dma_wmb();
            } else {
                // SAFETY: `from < to <= 8`: inside entry `i`.
                cache::clean(unsafe { p.add(from) }.cast::<u8>(), (to - from) * 8);
            }
        };
        match order {
            Publish::Dword0Last => {
                phase(1, 8);
                phase(0, 1);
            }
            Publish::Dword0First => {
                phase(0, 1);
                phase(1, 8);
            }
        }
        dma_wmb();
        true
    }
}

/// Orders stores to DMA memory before later stores to DMA memory.
#[inline(always)]
pub(crate) fn dma_wmb() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction; ordering only.
    unsafe {
        core::arch::asm!("dmb oshst", options(nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

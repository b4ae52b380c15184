//! Simulated physical memory for the table pool: one zeroed host
//! allocation that the engine sees at physical address [`PHYS_BASE`], cut
//! into table slots handed out aligned to their size.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::Mutex;

use iommugen_runtime::pgtable::PageAllocator;

/// Where the pool sits in the simulated physical address space: below
/// 4 GiB, so every format's table pointers can hold it.
pub const PHYS_BASE: u64 = 0x4000_0000;

/// Largest pool the simulation allocates.
pub const MAX_BYTES: usize = 256 << 20;

/// `slots` table slots of `1 << slot_shift` bytes at [`PHYS_BASE`].
pub struct Memory {
    base: NonNull<u8>,
    layout: Layout,
    slot_shift: u32,
    used: Mutex<Vec<bool>>,
}

// SAFETY: the memory is owned by `Memory`; slot bookkeeping is behind a
// mutex and table contents are accessed by the engine through atomics.
unsafe impl Send for Memory {}
// SAFETY: as above.
unsafe impl Sync for Memory {}

impl Memory {
    /// Memory for `slots` slots, or why not (too large for the host).
    pub fn new(slots: usize, slot_shift: u32) -> Result<Memory, String> {
        let bytes = slots
            .checked_shl(slot_shift)
            .filter(|&b| b <= MAX_BYTES && slots > 0)
            .ok_or_else(|| format!("a pool of {slots} tables of {} bytes is more than the {} MiB the simulation allocates", 1u64 << slot_shift, MAX_BYTES >> 20))?;
        // Aligned to 64 KiB, the largest table slot any format uses.
        let layout = Layout::from_size_align(bytes, 1 << 16).map_err(|e| e.to_string())?;
        // SAFETY: `layout` has a non-zero size.
        let base = NonNull::new(unsafe { alloc::alloc_zeroed(layout) })
            .ok_or_else(|| "out of host memory for the simulated pool".to_owned())?;
        Ok(Memory {
            base,
            layout,
            slot_shift,
            used: Mutex::new(vec![false; slots]),
        })
    }

    pub fn slots(&self) -> usize {
        self.layout.size() >> self.slot_shift
    }

    /// The `bytes`-wide little-endian word at physical `pa`, if inside.
    pub fn read(&self, pa: u64, bytes: usize) -> Option<u64> {
        let off = usize::try_from(pa.checked_sub(PHYS_BASE)?).ok()?;
        if off.checked_add(bytes)? > self.layout.size() || off % bytes != 0 {
            return None;
        }
        let mut word = [0u8; 8];
        // SAFETY: `off..off + bytes` is inside the allocation; the engine is
        // not running (single-threaded CLI), so the bytes are not changing.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.as_ptr().add(off), word.as_mut_ptr(), bytes)
        };
        Some(u64::from_le_bytes(word))
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.base.as_ptr(), self.layout) };
    }
}

// SAFETY: runs of slots are handed out aligned to their size, exclusively,
// until freed; the memory lives as long as `Memory` and stays readable.
unsafe impl PageAllocator for &Memory {
    fn alloc_pages(&self, bytes: usize) -> Option<(NonNull<u8>, u64)> {
        let n = (bytes >> self.slot_shift).max(1);
        let mut used = self.used.lock().ok()?;
        let first = (0..used.len())
            .step_by(n)
            .find(|&i| i + n <= used.len() && used[i..i + n].iter().all(|u| !u))?;
        used[first..first + n].iter_mut().for_each(|u| *u = true);
        let off = first << self.slot_shift;
        // SAFETY: `off` is inside the allocation.
        let ptr = unsafe { self.base.as_ptr().add(off) };
        Some((NonNull::new(ptr)?, PHYS_BASE + off as u64))
    }

    fn free_pages(&self, pa: u64, bytes: usize) {
        let first = ((pa - PHYS_BASE) >> self.slot_shift) as usize;
        let n = (bytes >> self.slot_shift).max(1);
        if let Ok(mut used) = self.used.lock() {
            used.iter_mut().skip(first).take(n).for_each(|u| *u = false);
        }
    }

    fn phys_to_virt(&self, pa: u64) -> *mut u8 {
        let off = pa.wrapping_sub(PHYS_BASE) as usize;
        self.base.as_ptr().wrapping_add(off)
    }
}

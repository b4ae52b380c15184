//! A bump allocator over the RAM after the image, for memory the SMMU and
//! the device reach by physical address (identity-mapped: PA == VA).

use core::ops::Range;

pub struct Bump {
    next: u64,
    end: u64,
}

impl Bump {
    pub const fn new(free: Range<u64>) -> Bump {
        Bump {
            next: free.start,
            end: free.end,
        }
    }

    /// `size` zeroed bytes aligned to `align` (a power of two).
    pub fn alloc_zeroed(&mut self, size: u64, align: u64) -> Option<u64> {
        let start = self.next.checked_add(align - 1)? & !(align - 1);
        let end = start.checked_add(size)?;
        if end > self.end {
            return None;
        }
        self.next = end;
        // SAFETY: `[start, end)` is free RAM past the image (the linker's
        // `__free_start` up to the end of the tree's memory node), handed
        // out once.
        unsafe { core::ptr::write_bytes(start as *mut u8, 0, size as usize) };
        Some(start)
    }

    /// A zeroed slice of `n` `T`s aligned to `align`, living forever.
    pub fn slice<T: Copy>(&mut self, n: usize, align: u64) -> Option<&'static mut [T]> {
        let bytes = (n * core::mem::size_of::<T>()) as u64;
        let align = align.max(core::mem::align_of::<T>() as u64);
        let pa = self.alloc_zeroed(bytes, align)?;
        // SAFETY: fresh, zeroed, aligned memory never handed out again; the
        // element types used are plain integers, valid when zeroed.
        Some(unsafe { core::slice::from_raw_parts_mut(pa as *mut T, n) })
    }
}

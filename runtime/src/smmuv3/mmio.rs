//! Register access: a fenced volatile accessor for real hardware, behind a
//! small trait so the driver's sequencing can be tested against a model.

/// Access to an SMMU's register frame by byte offset.
///
/// Writes take `&mut self`: programming the SMMU is a sequence only one owner
/// may drive.
pub trait RegisterIo {
    fn read32(&self, offset: usize) -> u32;
    fn write32(&mut self, offset: usize, value: u32);
    fn read64(&self, offset: usize) -> u64;
    fn write64(&mut self, offset: usize, value: u64);
}

/// A borrowed register frame: the owner keeps it (and can inspect it)
/// whether or not bring-up succeeds.
impl<R: RegisterIo + ?Sized> RegisterIo for &mut R {
    fn read32(&self, offset: usize) -> u32 {
        (**self).read32(offset)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        (**self).write32(offset, value)
    }
    fn read64(&self, offset: usize) -> u64 {
        (**self).read64(offset)
    }
    fn write64(&mut self, offset: usize, value: u64) {
        (**self).write64(offset, value)
    }
}

/// A memory-mapped SMMUv3 register frame (two 64 KiB pages).
///
/// Every write is preceded by a barrier that orders earlier normal-memory
/// stores (queue entries, table entries) before it, as the SMMU must see a
/// command before it sees the producer index that publishes it. Every read
/// is followed by a barrier so that later memory reads (an event record
/// after the event queue's producer index) are not performed before it.
#[derive(Debug)]
pub struct Mmio {
    base: *mut u8,
    len: usize,
}

impl Mmio {
    /// A frame at the address firmware gave (the device tree's `reg`). The
    /// pointer takes exposed provenance: a device's registers belong to no
    /// Rust allocation, so there is no pointer to derive it from.
    ///
    /// # Safety
    /// `[base, base + len)` must be the register frame of one SMMUv3, mapped
    /// as Device memory (or with the MMU off), valid for the lifetime of the
    /// returned value and accessed by nobody else.
    pub unsafe fn new(base: usize, len: usize) -> Mmio {
        Mmio {
            base: core::ptr::with_exposed_provenance_mut(base),
            len,
        }
    }

    /// A frame behind a pointer the caller already has (a mapping it made,
    /// or memory standing in for the frame in a test).
    ///
    /// # Safety
    /// As for [`Mmio::new`].
    pub const unsafe fn from_ptr(base: core::ptr::NonNull<u8>, len: usize) -> Mmio {
        Mmio {
            base: base.as_ptr(),
            len,
        }
    }

    /// The location of `offset`, if a `size`-byte access there stays inside
    /// the frame and is naturally aligned.
    fn addr<T>(&self, offset: usize) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        let end = offset.checked_add(size)?;
        if end > self.len || offset % size != 0 {
            return None;
        }
        Some(self.base.wrapping_add(offset).cast())
    }
}

/// Orders earlier stores to memory before a following register write.
#[inline(always)]
fn barrier_before_write() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a data memory barrier has no operands and no effect other than
    // ordering; outer-shareable store ordering covers a DMA-capable device.
    unsafe {
        core::arch::asm!("dmb oshst", options(nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

/// Orders a register read before later loads from memory.
#[inline(always)]
fn barrier_after_read() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above; load ordering only.
    unsafe {
        core::arch::asm!("dmb oshld", options(nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

impl RegisterIo for Mmio {
    fn read32(&self, offset: usize) -> u32 {
        let Some(addr) = self.addr::<u32>(offset) else {
            return 0;
        };
        // SAFETY: `addr` is an aligned 4-byte location inside the frame that
        // `new`'s caller vouched for.
        let v = unsafe { core::ptr::read_volatile(addr) };
        barrier_after_read();
        v
    }

    fn write32(&mut self, offset: usize, value: u32) {
        let Some(addr) = self.addr::<u32>(offset) else {
            return;
        };
        barrier_before_write();
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile(addr, value) };
    }

    fn read64(&self, offset: usize) -> u64 {
        let Some(addr) = self.addr::<u64>(offset) else {
            return 0;
        };
        // SAFETY: an aligned 8-byte location inside the frame; SMMUv3 allows
        // 64-bit accesses to its 64-bit registers.
        let v = unsafe { core::ptr::read_volatile(addr) };
        barrier_after_read();
        v
    }

    fn write64(&mut self, offset: usize, value: u64) {
        let Some(addr) = self.addr::<u64>(offset) else {
            return;
        };
        barrier_before_write();
        // SAFETY: as in `read64`.
        unsafe { core::ptr::write_volatile(addr, value) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_stay_inside_the_frame_and_aligned() {
        let mut frame = [0u64; 4];
        let base = core::ptr::NonNull::from(&mut frame).cast::<u8>();
        // SAFETY: a plain array stands in for the frame; it outlives `m`.
        let mut m = unsafe { Mmio::from_ptr(base, 32) };
        m.write32(4, 0xdead_beef);
        m.write64(8, 0x1122_3344_5566_7788);
        assert_eq!(m.read32(4), 0xdead_beef);
        assert_eq!(m.read64(8), 0x1122_3344_5566_7788);
        // Out of bounds or misaligned: ignored, reads as zero.
        m.write64(28, u64::MAX);
        m.write32(2, u32::MAX);
        assert_eq!(m.read64(28), 0);
        assert_eq!(m.read32(2), 0);
        assert_eq!(frame[3], 0);
        assert_eq!(frame[0] as u32, 0);
    }
}

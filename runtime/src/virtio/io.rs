//! How the driver reaches the device: register windows of the virtio-pci
//! transport ([`Io`], volatile [`Mmio`] on hardware) and the memory both
//! sides share ([`DmaRegion`]: the rings and request buffers, in memory the
//! caller provides, with the physical address the device sees).

use core::marker::PhantomData;
use core::ptr::NonNull;

/// One register window (common configuration, notification, device
/// configuration) by byte offset. Accesses are naturally aligned and of the
/// field's width, as the virtio-pci transport requires.
pub trait Io {
    fn read8(&self, offset: usize) -> u8;
    fn read16(&self, offset: usize) -> u16;
    fn read32(&self, offset: usize) -> u32;
    fn write8(&mut self, offset: usize, value: u8);
    fn write16(&mut self, offset: usize, value: u16);
    fn write32(&mut self, offset: usize, value: u32);
}

/// A memory-mapped window inside a BAR. Out-of-window or misaligned
/// accesses read as zero and are not performed.
#[derive(Debug)]
pub struct Mmio {
    base: *mut u8,
    len: usize,
}

impl Mmio {
    /// The window at bus address `base` (PCI address == CPU address). The
    /// pointer takes exposed provenance: device registers belong to no Rust
    /// allocation.
    ///
    /// # Safety
    /// `[base, base + len)` must be this device's registers, mapped as
    /// Device memory, for the life of the value, used by nobody else.
    pub unsafe fn new(base: usize, len: usize) -> Mmio {
        Mmio {
            base: core::ptr::with_exposed_provenance_mut(base),
            len,
        }
    }

    fn at<T>(&self, offset: usize) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        if offset.checked_add(size)? > self.len || offset % size != 0 {
            return None;
        }
        Some(self.base.wrapping_add(offset).cast())
    }

    fn read<T: Copy + Default>(&self, offset: usize) -> T {
        let Some(p) = self.at::<T>(offset) else {
            return T::default();
        };
        // SAFETY: an aligned location inside the window `new`'s caller
        // vouched for.
        let v = unsafe { core::ptr::read_volatile(p) };
        barrier();
        v
    }

    fn write<T: Copy>(&mut self, offset: usize, value: T) {
        let Some(p) = self.at::<T>(offset) else {
            return;
        };
        barrier();
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(p, value) }
    }
}

impl Io for Mmio {
    fn read8(&self, offset: usize) -> u8 {
        self.read(offset)
    }
    fn read16(&self, offset: usize) -> u16 {
        u16::from_le(self.read(offset))
    }
    fn read32(&self, offset: usize) -> u32 {
        u32::from_le(self.read(offset))
    }
    fn write8(&mut self, offset: usize, value: u8) {
        self.write(offset, value)
    }
    fn write16(&mut self, offset: usize, value: u16) {
        self.write(offset, value.to_le())
    }
    fn write32(&mut self, offset: usize, value: u32) {
        self.write(offset, value.to_le())
    }
}

/// Orders memory accesses on both sides of it for the CPU and a DMA-capable
/// device: ring stores before the index that publishes them, the used index
/// before the entries it covers, and both before a register access.
#[inline(always)]
pub(crate) fn barrier() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier has no operands and no effect but ordering.
    unsafe {
        core::arch::asm!("dmb osh", options(nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

/// Memory shared with the device: `len` bytes at a 16-byte-aligned CPU
/// address, seen by the device at `phys`. Every access is volatile and
/// bounds-checked (out of bounds: read as zero, not performed); the driver
/// lays its rings and buffers out inside it once.
#[derive(Debug)]
pub struct DmaRegion<'a> {
    ptr: NonNull<u8>,
    len: usize,
    phys: u64,
    _owner: PhantomData<&'a mut [u8]>,
}

impl<'a> DmaRegion<'a> {
    /// `memory` as the device sees it at `phys`. `None` unless both
    /// addresses are 16-byte aligned (the descriptor table's alignment).
    pub fn new(memory: &'a mut [u8], phys: u64) -> Option<DmaRegion<'a>> {
        let len = memory.len();
        let ptr = NonNull::from(memory).cast::<u8>();
        if ptr.as_ptr().addr() % 16 != 0 || phys % 16 != 0 {
            return None;
        }
        Some(DmaRegion {
            ptr,
            len,
            phys,
            _owner: PhantomData,
        })
    }

    /// For kernels whose physical addresses equal virtual ones. The address
    /// is read from the kept pointer, so a model resolving it through that
    /// pointer keeps its provenance.
    pub fn identity(memory: &'a mut [u8]) -> Option<DmaRegion<'a>> {
        let phys = memory.as_ptr().addr() as u64;
        Self::new(memory, phys)
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The device's address of byte `offset`.
    pub fn phys(&self, offset: usize) -> u64 {
        self.phys + offset as u64
    }

    /// The CPU pointer to byte 0, for a model playing the device in tests.
    #[cfg(test)]
    pub(crate) fn cpu_ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    fn at<T>(&self, offset: usize) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        if offset.checked_add(size)? > self.len || offset % size != 0 {
            return None;
        }
        Some(self.ptr.as_ptr().wrapping_add(offset).cast())
    }

    fn get<T: Copy + Default>(&self, offset: usize) -> T {
        match self.at::<T>(offset) {
            // SAFETY: aligned and inside the region this value borrows.
            Some(p) => unsafe { core::ptr::read_volatile(p) },
            None => T::default(),
        }
    }

    fn put<T: Copy>(&mut self, offset: usize, value: T) {
        if let Some(p) = self.at::<T>(offset) {
            // SAFETY: as in `get`.
            unsafe { core::ptr::write_volatile(p, value) }
        }
    }

    pub fn read8(&self, offset: usize) -> u8 {
        self.get(offset)
    }
    pub fn read16(&self, offset: usize) -> u16 {
        u16::from_le(self.get(offset))
    }
    pub fn read32(&self, offset: usize) -> u32 {
        u32::from_le(self.get(offset))
    }
    pub fn read64(&self, offset: usize) -> u64 {
        u64::from_le(self.get(offset))
    }
    pub fn write8(&mut self, offset: usize, v: u8) {
        self.put(offset, v)
    }
    pub fn write16(&mut self, offset: usize, v: u16) {
        self.put(offset, v.to_le())
    }
    pub fn write32(&mut self, offset: usize, v: u32) {
        self.put(offset, v.to_le())
    }
    pub fn write64(&mut self, offset: usize, v: u64) {
        self.put(offset, v.to_le())
    }

    /// Copies `bytes` in at `offset`.
    pub fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            self.write8(offset + i, b);
        }
    }

    /// Zeroes `len` bytes at `offset`.
    pub fn zero(&mut self, offset: usize, len: usize) {
        for i in 0..len {
            self.write8(offset + i, 0);
        }
    }
}

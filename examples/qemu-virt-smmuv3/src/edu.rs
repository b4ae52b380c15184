//! QEMU's `edu` teaching device: a DMA engine between RAM (through the
//! IOMMU) and a 4 KiB buffer at device address 0x40000.

pub const VENDOR: u16 = 0x1234;
pub const DEVICE: u16 = 0x11e8;

const IDENT: usize = 0x00;
const IRQ_STATUS: usize = 0x24;
const IRQ_RAISE: usize = 0x60;
const IRQ_ACK: usize = 0x64;
const DMA_SRC: usize = 0x80;
const DMA_DST: usize = 0x88;
const DMA_COUNT: usize = 0x90;
const DMA_CMD: usize = 0x98;
const CMD_START: u64 = 1 << 0;
/// Set: device buffer to RAM; clear: RAM to device buffer.
const CMD_TO_RAM: u64 = 1 << 1;

/// The device's 4 KiB buffer, in the device's own address space.
pub const BUFFER: u64 = 0x40000;

#[derive(Clone, Copy, Debug)]
pub struct Edu {
    bar0: usize,
}

/// The transfer did not finish in time.
#[derive(Clone, Copy, Debug)]
pub struct DmaTimeout;

impl Edu {
    /// # Safety
    /// `bar0` is the device's enabled BAR0, mapped as Device memory.
    pub unsafe fn new(bar0: u64) -> Edu {
        Edu {
            bar0: bar0 as usize,
        }
    }

    fn read32(&self, off: usize) -> u32 {
        // SAFETY: a register of the BAR `new`'s caller vouched for.
        unsafe { core::ptr::read_volatile((self.bar0 + off) as *const u32) }
    }
    fn write32(&self, off: usize, v: u32) {
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile((self.bar0 + off) as *mut u32, v) }
    }
    fn read64(&self, off: usize) -> u64 {
        // SAFETY: as above; edu accepts 8-byte accesses at 0x80 and up.
        unsafe { core::ptr::read_volatile((self.bar0 + off) as *const u64) }
    }
    fn write64(&self, off: usize, v: u64) {
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile((self.bar0 + off) as *mut u64, v) }
    }

    /// Major/minor version word; 0x010000ed for QEMU's edu.
    pub fn ident(&self) -> u32 {
        self.read32(IDENT)
    }

    /// Sets `bits` in the interrupt status and raises the interrupt: with
    /// MSI enabled, edu writes its MSI message (a DMA through the IOMMU)
    /// during this register write.
    pub fn raise_irq(&self, bits: u32) {
        self.write32(IRQ_RAISE, bits);
    }

    /// The interrupt status bits raised and not yet acknowledged.
    pub fn irq_status(&self) -> u32 {
        self.read32(IRQ_STATUS)
    }

    /// Clears `bits` of the interrupt status.
    pub fn ack_irq(&self, bits: u32) {
        self.write32(IRQ_ACK, bits);
    }

    /// Device reads `len` bytes at `iova` into its buffer at `offset`.
    pub fn read_from_ram(&self, iova: u64, offset: u64, len: u64) -> Result<(), DmaTimeout> {
        self.run(iova, BUFFER + offset, len, CMD_START)
    }

    /// Device writes `len` bytes of its buffer at `offset` to `iova`.
    pub fn write_to_ram(&self, offset: u64, iova: u64, len: u64) -> Result<(), DmaTimeout> {
        self.run(BUFFER + offset, iova, len, CMD_START | CMD_TO_RAM)
    }

    fn run(&self, src: u64, dst: u64, len: u64, cmd: u64) -> Result<(), DmaTimeout> {
        self.write64(DMA_SRC, src);
        self.write64(DMA_DST, dst);
        self.write64(DMA_COUNT, len);
        self.write64(DMA_CMD, cmd);
        // edu runs the transfer from a 100 ms timer; allow two seconds.
        let deadline = crate::boot::now_ticks() + 2 * crate::boot::ticks_per_second();
        while self.read64(DMA_CMD) & CMD_START != 0 {
            if crate::boot::now_ticks() > deadline {
                return Err(DmaTimeout);
            }
            core::hint::spin_loop();
        }
        Ok(())
    }
}

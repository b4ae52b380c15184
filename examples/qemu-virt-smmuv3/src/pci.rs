//! Just enough PCI: ECAM config space from the host bridge's `reg`, a bus-0
//! scan, and BAR assignment from the bridge's 32-bit memory window.

use iommugen_runtime::fdt::Node;

/// A host bridge's ECAM window and its 32-bit non-prefetchable MMIO window
/// (PCI address == CPU address on QEMU virt).
#[derive(Clone, Copy, Debug)]
pub struct HostBridge {
    pub ecam: u64,
    pub mmio32: u64,
    pub mmio32_size: u64,
}

impl HostBridge {
    /// Reads `reg` (2 address + 2 size cells under the root) and the
    /// `ranges` entry whose space code is 32-bit memory.
    pub fn from_node(node: Node<'_>) -> Option<HostBridge> {
        let reg = node.property("reg")?.cells()?;
        let (ecam, _) = reg.split(2)?;
        let ranges = node.property("ranges")?.cells()?;
        // One entry: 3 PCI address cells, 2 CPU address cells, 2 size cells.
        let mut rest = ranges;
        while rest.len() >= 7 {
            let (entry, tail) = rest.split(7)?;
            let (pci, after) = entry.split(3)?;
            let (cpu, size) = after.split(2)?;
            let space = (pci.get(0)? >> 24) & 0b11;
            if space == 0b10 {
                return Some(HostBridge {
                    ecam: ecam.number(),
                    mmio32: cpu.number(),
                    mmio32_size: size.number(),
                });
            }
            rest = tail;
        }
        None
    }

    fn cfg(&self, bdf: Bdf, offset: usize) -> usize {
        self.ecam as usize
            + ((bdf.bus as usize) << 20)
            + ((bdf.dev as usize) << 15)
            + ((bdf.func as usize) << 12)
            + offset
    }

    pub fn read32(&self, bdf: Bdf, offset: usize) -> u32 {
        // SAFETY: an aligned register inside the ECAM window the tree gave,
        // mapped as Device memory.
        unsafe { core::ptr::read_volatile(self.cfg(bdf, offset) as *const u32) }
    }

    pub fn write32(&self, bdf: Bdf, offset: usize, value: u32) {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile(self.cfg(bdf, offset) as *mut u32, value) }
    }

    /// The functions on bus 0 with this vendor and device ID, in slot order.
    pub fn find_all(&self, vendor: u16, device: u16) -> impl Iterator<Item = Bdf> + '_ {
        (0..32u8)
            .map(|dev| Bdf {
                bus: 0,
                dev,
                func: 0,
            })
            .filter(move |&bdf| {
                self.read32(bdf, 0) == (u32::from(device) << 16 | u32::from(vendor))
            })
    }

    /// The config-space offset of `bdf`'s capability `id`, walking the
    /// capability list from the pointer at 0x34 (status bit 4 says there
    /// is one).
    pub fn capability(&self, bdf: Bdf, id: u8) -> Option<usize> {
        if (self.read32(bdf, 0x04) >> 16) & (1 << 4) == 0 {
            return None;
        }
        let mut at = (self.read32(bdf, 0x34) & 0xfc) as usize;
        // At most 48 capabilities fit in the 256-byte header space.
        for _ in 0..48 {
            if at < 0x40 {
                return None;
            }
            let head = self.read32(bdf, at);
            if head as u8 == id {
                return Some(at);
            }
            at = ((head >> 8) & 0xfc) as usize;
        }
        None
    }

    /// Sizes BAR0 (32-bit memory), places it at the first suitably aligned
    /// address of the 32-bit window at or above `from`, and enables memory
    /// decoding and bus mastering. Returns the BAR's base and size.
    pub fn enable_bar0(&self, bdf: Bdf, from: u64) -> Option<(u64, u64)> {
        const BAR0: usize = 0x10;
        const COMMAND: usize = 0x04;
        self.write32(bdf, BAR0, u32::MAX);
        let probe = self.read32(bdf, BAR0);
        if probe & 1 != 0 || (probe >> 1) & 0b11 != 0 {
            return None; // I/O or 64-bit BAR: not what edu has
        }
        let size = u64::from(!(probe & !0xf)) + 1;
        let base = (from.max(self.mmio32) + size - 1) & !(size - 1);
        if base + size > self.mmio32 + self.mmio32_size {
            return None;
        }
        self.write32(bdf, BAR0, base as u32);
        // Memory space + bus master; status bits (write-1-to-clear) stay 0.
        let cmd = self.read32(bdf, COMMAND) & 0xffff;
        self.write32(bdf, COMMAND, cmd | (1 << 1) | (1 << 2));
        Some((base, size))
    }
}

/// Bus/device/function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bdf {
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
}

impl Bdf {
    /// The requester ID, which `iommu-map` turns into a StreamID.
    pub fn rid(self) -> u32 {
        u32::from(self.bus) << 8 | u32::from(self.dev) << 3 | u32::from(self.func)
    }
}

impl core::fmt::Display for Bdf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.dev, self.func)
    }
}

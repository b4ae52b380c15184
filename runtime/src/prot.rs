//! Portable protection flags for a DMA mapping, shared by the boot flow's
//! domains and the page-table engine (which maps them to descriptor bits).

/// What a device may do through a mapping, in the IOMMU API's terms
/// (Linux's `IOMMU_READ`, `IOMMU_WRITE`, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Prot(u8);

impl Prot {
    /// The device may read memory through the mapping.
    pub const READ: Prot = Prot(1 << 0);
    /// The device may write memory through the mapping.
    pub const WRITE: Prot = Prot(1 << 1);
    /// Normal write-back cacheable memory (else non-cacheable normal memory).
    pub const CACHE: Prot = Prot(1 << 2);
    /// Device (MMIO) memory, e.g. a doorbell or another device's registers.
    pub const MMIO: Prot = Prot(1 << 3);
    /// No instruction fetch through the mapping.
    pub const NOEXEC: Prot = Prot(1 << 4);
    /// Privileged accesses only.
    pub const PRIV: Prot = Prot(1 << 5);

    pub const fn empty() -> Prot {
        Prot(0)
    }
    pub const fn bits(self) -> u8 {
        self.0
    }
    pub const fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: Prot) -> Prot {
        Prot(self.0 | other.0)
    }
}

impl core::ops::BitOr for Prot {
    type Output = Prot;
    fn bitor(self, rhs: Prot) -> Prot {
        self.union(rhs)
    }
}

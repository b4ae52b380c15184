//! The engine behind the boot flow's [`PageTableOps`] boundary: a domain
//! owns its page table, so the exclusive (`&mut self`) entry points serve.

use super::format::Format;
use super::pool::TablePool;
use super::tlb::TlbOps;
use super::{MapError, PageTable};
use crate::domain::{self, PageTableOps};
use crate::prot::Prot;

impl From<MapError> for domain::MapError {
    fn from(e: MapError) -> Self {
        match e {
            MapError::Empty | MapError::Misaligned => domain::MapError::Unaligned,
            MapError::IovaOutOfRange | MapError::PaddrOutOfRange => domain::MapError::OutOfRange,
            MapError::Overlap => domain::MapError::AlreadyMapped,
            MapError::NoMemory => domain::MapError::NoMemory,
            // The boundary has no "no access" error: a mapping nobody may
            // use maps nothing, which the domain sees as "not mapped".
            MapError::NoAccess => domain::MapError::NotMapped,
        }
    }
}

impl<F: Format, P: TablePool, T: TlbOps> PageTableOps for PageTable<F, P, T> {
    fn map(&mut self, iova: u64, phys: u64, size: u64, prot: Prot) -> Result<(), domain::MapError> {
        Ok(self.map_mut(iova, phys, size, prot)?)
    }

    /// Errors when the request is misaligned or out of range, or when
    /// nothing in it was mapped; otherwise the bytes unmapped.
    fn unmap(&mut self, iova: u64, size: u64) -> Result<u64, domain::MapError> {
        let g = 1u64 << F::GRANULE_SHIFT;
        if size == 0 || (iova | size) & (g - 1) != 0 {
            return Err(domain::MapError::Unaligned);
        }
        if iova
            .checked_add(size)
            .is_none_or(|end| end > 1u64 << F::IAS)
        {
            return Err(domain::MapError::OutOfRange);
        }
        match self.unmap_mut(iova, size) {
            0 => Err(domain::MapError::NotMapped),
            n => Ok(n),
        }
    }

    fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        PageTable::iova_to_phys(self, iova)
    }
}

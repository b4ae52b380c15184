//! The runtime's page-table engine behind the boot flow's `PageTableOps`
//! seam, so a `domain::Domain` (IOVA allocator + table) can drive it.
//!
//! Integration point: belongs in the runtime (pgtable or domain) once the
//! two error types are reconciled; nothing here is kernel-specific.

use iommugen_runtime::domain::{MapError as DomainMapError, PageTableOps};
use iommugen_runtime::pgtable::{Format, MapError, PageTable, TablePool, TlbOps};
use iommugen_runtime::Prot;

pub struct EngineTable<'t, F: Format, P: TablePool, T: TlbOps>(pub &'t PageTable<F, P, T>);

impl<F: Format, P: TablePool, T: TlbOps> PageTableOps for EngineTable<'_, F, P, T> {
    fn map(&mut self, iova: u64, phys: u64, size: u64, prot: Prot) -> Result<(), DomainMapError> {
        self.0.map(iova, phys, size, prot).map_err(|e| match e {
            MapError::Empty | MapError::Misaligned | MapError::NoAccess => {
                DomainMapError::Unaligned
            }
            MapError::IovaOutOfRange | MapError::PaddrOutOfRange => DomainMapError::OutOfRange,
            MapError::Overlap => DomainMapError::AlreadyMapped,
            MapError::NoMemory => DomainMapError::NoMemory,
        })
    }

    fn unmap(&mut self, iova: u64, size: u64) -> Result<u64, DomainMapError> {
        match self.0.unmap(iova, size) {
            0 => Err(DomainMapError::NotMapped),
            n => Ok(n),
        }
    }

    fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        self.0.iova_to_phys(iova)
    }
}

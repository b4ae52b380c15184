//! The boundary between a DMA domain and the page-table engine.
//!
//! A domain owns one I/O address space: an IOVA allocator deciding *where* a
//! buffer goes, and a page table recording *what* it maps to. The boot flow
//! only needs the three operations below; the page-table engine
//! (`crate::pgtable`) implements them for its fixed format, and
//! [`RecordingPageTable`] stands in for it in tests of the boot flow.

use crate::Prot;

/// Why a page-table operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The IOVA, physical address or size is not aligned to the granule.
    Unaligned,
    /// The range leaves the table's input or output address space.
    OutOfRange,
    /// Part of the range is already mapped.
    AlreadyMapped,
    /// No free table to grow into (the static pool is exhausted).
    NoMemory,
    /// The range is not (entirely) mapped.
    NotMapped,
    /// The IOMMU refused or failed the request (a request-based IOMMU's
    /// error status, or no answer).
    Refused,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MapError::Unaligned => "address or size not aligned to the granule",
            MapError::OutOfRange => "range outside the address space",
            MapError::AlreadyMapped => "range already mapped",
            MapError::NoMemory => "no free translation table",
            MapError::NotMapped => "range not mapped",
            MapError::Refused => "the IOMMU refused the request",
        })
    }
}

/// What a domain asks of a page table. Sizes are bytes, multiples of the
/// smallest page size; the engine picks block sizes itself.
pub trait PageTableOps {
    /// Map `[iova, iova + size)` to `[phys, phys + size)` with `prot`.
    fn map(&mut self, iova: u64, phys: u64, size: u64, prot: Prot) -> Result<(), MapError>;
    /// Remove `[iova, iova + size)`; returns the number of bytes unmapped.
    fn unmap(&mut self, iova: u64, size: u64) -> Result<u64, MapError>;
    /// The physical address `iova` translates to, if mapped.
    fn iova_to_phys(&self, iova: u64) -> Option<u64>;
}

/// One call a [`RecordingPageTable`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtCall {
    Map {
        iova: u64,
        phys: u64,
        size: u64,
        prot: Prot,
    },
    Unmap {
        iova: u64,
        size: u64,
    },
}

/// A stand-in page table: remembers up to `N` live mappings and the last
/// call, so boot-flow tests can check what a domain asked for without the
/// real engine. Overlapping maps and unknown unmaps are errors, as in the
/// engine.
#[derive(Debug)]
pub struct RecordingPageTable<const N: usize> {
    live: [(u64, u64, u64); N],
    len: usize,
    /// The most recent successful call.
    pub last: Option<PtCall>,
    /// Successful calls so far.
    pub calls: usize,
}

impl<const N: usize> Default for RecordingPageTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> RecordingPageTable<N> {
    pub const fn new() -> Self {
        Self {
            live: [(0, 0, 0); N],
            len: 0,
            last: None,
            calls: 0,
        }
    }

    /// Live mappings as `(iova, phys, size)`.
    pub fn mappings(&self) -> &[(u64, u64, u64)] {
        &self.live[..self.len]
    }
}

impl<const N: usize> PageTableOps for RecordingPageTable<N> {
    fn map(&mut self, iova: u64, phys: u64, size: u64, prot: Prot) -> Result<(), MapError> {
        let end = iova.checked_add(size).ok_or(MapError::OutOfRange)?;
        if size == 0 {
            return Err(MapError::Unaligned);
        }
        if self
            .mappings()
            .iter()
            .any(|&(i, _, s)| iova < i.saturating_add(s) && i < end)
        {
            return Err(MapError::AlreadyMapped);
        }
        let slot = self.live.get_mut(self.len).ok_or(MapError::NoMemory)?;
        *slot = (iova, phys, size);
        self.len += 1;
        self.last = Some(PtCall::Map {
            iova,
            phys,
            size,
            prot,
        });
        self.calls += 1;
        Ok(())
    }

    fn unmap(&mut self, iova: u64, size: u64) -> Result<u64, MapError> {
        let pos = self
            .mappings()
            .iter()
            .position(|&(i, _, s)| i == iova && s == size)
            .ok_or(MapError::NotMapped)?;
        self.live[pos] = self.live[self.len - 1];
        self.len -= 1;
        self.last = Some(PtCall::Unmap { iova, size });
        self.calls += 1;
        Ok(size)
    }

    fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        self.mappings()
            .iter()
            .find(|&&(i, _, s)| iova >= i && iova - i < s)
            .map(|&(i, p, _)| p + (iova - i))
    }
}

/// Why a domain could not map or unmap a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainError {
    Iova(crate::iova::IovaError),
    Map(MapError),
}

impl core::fmt::Display for DomainError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DomainError::Iova(e) => e.fmt(f),
            DomainError::Map(e) => e.fmt(f),
        }
    }
}

/// One I/O address space: where buffers go ([`IovaAllocator`]) and what
/// they map to (the page table `P`). The boot flow decides which masters
/// share it (see [`crate::ops`]).
///
/// [`IovaAllocator`]: crate::iova::IovaAllocator
pub struct Domain<'s, P: PageTableOps> {
    pub iova: crate::iova::IovaAllocator<'s>,
    pub table: P,
    granule: u64,
}

impl<'s, P: PageTableOps> Domain<'s, P> {
    /// A domain over IOVA window `[base, base + size)` with pages of
    /// `1 << granule_shift` bytes, its allocator's state in `iova_storage`.
    /// A window larger than the storage affords (a whole 48-bit aperture,
    /// say) is capped: the domain manages the part
    /// [`capped_window`](crate::iova::capped_window) picks, the highest
    /// affordable range at or below 4 GiB when the window reaches that low.
    /// [`iova::DEFAULT_WORDS`](crate::iova::DEFAULT_WORDS) words manage
    /// [`iova::DEFAULT_WINDOW`](crate::iova::DEFAULT_WINDOW) (1 GiB) of 4K
    /// pages.
    pub fn new(
        table: P,
        iova_storage: &'s mut [u64],
        base: u64,
        size: u64,
        granule_shift: u32,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            iova: crate::iova::IovaAllocator::new_capped(iova_storage, base, size, granule_shift)
                .map_err(DomainError::Iova)?,
            table,
            granule: 1 << granule_shift,
        })
    }

    /// The page size, in bytes.
    pub fn granule(&self) -> u64 {
        self.granule
    }

    /// Map `size` bytes at `phys` for a device whose last usable bus address
    /// is `limit`; returns the IOVA of `phys`.
    pub fn map(
        &mut self,
        phys: u64,
        size: u64,
        prot: Prot,
        limit: u64,
    ) -> Result<u64, DomainError> {
        self.map_within(phys, size, prot, 0, limit)
    }

    /// [`map`](Self::map) for a device that drives only bus addresses
    /// `[lowest, limit]`: pass `DmaOps::Iommu`'s `iova_base` and `iova_last`.
    pub fn map_within(
        &mut self,
        phys: u64,
        size: u64,
        prot: Prot,
        lowest: u64,
        limit: u64,
    ) -> Result<u64, DomainError> {
        let offset = phys & (self.granule - 1);
        let span = size
            .checked_add(offset)
            .and_then(|s| s.checked_add(self.granule - 1))
            .ok_or(DomainError::Iova(crate::iova::IovaError::BadSize))?
            & !(self.granule - 1);
        let iova = self
            .iova
            .alloc_range(span, lowest, limit)
            .map_err(DomainError::Iova)?;
        if let Err(e) = self.table.map(iova, phys - offset, span, prot) {
            // Give the space back; the table did not take it.
            let _ = self.iova.free(iova, span);
            return Err(DomainError::Map(e));
        }
        Ok(iova + offset)
    }

    /// The part of `[iova, iova + size)` inside the managed window.
    fn clip(&self, iova: u64, end: u64) -> (u128, u128) {
        let (lo, top) = self.iova.window();
        (
            u128::from(iova).max(u128::from(lo)),
            u128::from(end).min(top),
        )
    }

    /// Keep `[iova, iova + size)` (granule-aligned) out of the allocator:
    /// a reserved region's carve-out. The part outside the managed window
    /// is never handed out anyway. All or nothing: if any page is already
    /// taken, nothing is reserved.
    pub fn reserve(&mut self, iova: u64, size: u64) -> Result<(), DomainError> {
        let g = self.granule;
        let bad = DomainError::Iova(crate::iova::IovaError::BadSize);
        let end = iova.checked_add(size).ok_or(bad)?;
        if size == 0 || (iova | size) & (g - 1) != 0 {
            return Err(bad);
        }
        let (start, stop) = self.clip(iova, end);
        // Each block is the only one of its size in its own range, so the
        // allocator must give exactly it or refuse.
        for (a, b) in aligned_blocks(start, stop) {
            match self.iova.alloc_range(b, a, a + (b - 1)) {
                Ok(got) if got == a => {}
                other => {
                    if let Ok(got) = other {
                        let _ = self.iova.free(got, b);
                    }
                    self.release(start, u128::from(a));
                    return Err(DomainError::Iova(crate::iova::IovaError::Exhausted));
                }
            }
        }
        Ok(())
    }

    /// Give back what [`reserve`](Self::reserve) took of `[from, to)`.
    fn release(&mut self, from: u128, to: u128) {
        for (a, b) in aligned_blocks(from, to) {
            let _ = self.iova.free(a, b);
        }
    }

    /// Map `[iova, iova + size)` to `phys` at exactly that IOVA (a reserved
    /// region the device already uses), keeping the range out of the
    /// allocator. All or nothing.
    pub fn map_fixed(
        &mut self,
        iova: u64,
        phys: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), DomainError> {
        self.reserve(iova, size)?;
        if let Err(e) = self.table.map(iova, phys, size, prot) {
            // `reserve` checked that the range does not wrap.
            let (from, to) = self.clip(iova, iova + size);
            self.release(from, to);
            return Err(DomainError::Map(e));
        }
        Ok(())
    }

    /// Install a master's reserved regions (before it is attached): direct
    /// and fixed ones mapped read/write, carve-outs reserved. All or
    /// nothing is not promised across regions: on an error, the regions
    /// before it stay installed, and the error says which failed.
    pub fn install_reserved(
        &mut self,
        regions: &[crate::resv::ResvRegion],
    ) -> Result<(), (usize, DomainError)> {
        use crate::resv::ResvKind;
        let rw = Prot::READ | Prot::WRITE;
        for (i, r) in regions.iter().enumerate() {
            let done = match r.kind {
                ResvKind::Direct => self.map_fixed(r.iova, r.iova, r.size, rw),
                ResvKind::Fixed { pa } => self.map_fixed(r.iova, pa, r.size, rw),
                ResvKind::Reserved => self.reserve(r.iova, r.size),
            };
            done.map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Undo [`map`](Self::map) of `size` bytes at `iova`.
    pub fn unmap(&mut self, iova: u64, size: u64) -> Result<(), DomainError> {
        let offset = iova & (self.granule - 1);
        let span = size
            .checked_add(offset)
            .and_then(|s| s.checked_add(self.granule - 1))
            .ok_or(DomainError::Iova(crate::iova::IovaError::BadSize))?
            & !(self.granule - 1);
        self.table
            .unmap(iova - offset, span)
            .map_err(DomainError::Map)?;
        self.iova
            .free(iova - offset, span)
            .map_err(DomainError::Iova)
    }
}

/// `[from, to)` as naturally aligned power-of-two blocks, largest first
/// (the buddy decomposition), as (address, size); at most 2^63 bytes each.
fn aligned_blocks(from: u128, to: u128) -> impl Iterator<Item = (u64, u64)> {
    let mut at = from;
    core::iter::from_fn(move || {
        if at >= to {
            return None;
        }
        let align = if at == 0 {
            1u128 << 64
        } else {
            1u128 << at.trailing_zeros()
        };
        let block = align
            .min(1u128 << (127 - (to - at).leading_zeros()))
            .min(1u128 << 63);
        let out = (at as u64, block as u64);
        at += block;
        Some(out)
    })
}

//! The page-table engine, written once and specialised at compile time by a
//! [`Format`] (geometry constants and a descriptor codec, see [`format`]).
//! Formats: Arm VMSAv8-64 long descriptors ([`formats::lpae`], stage 1 and
//! 2, 4K/16K/64K granules), ARMv7 short descriptors
//! ([`formats::arm_v7s`]), Apple DART ([`formats::apple_dart`]), the
//! Rockchip IOMMU's ([`formats::rockchip`]), the Samsung Exynos System
//! MMU's ([`formats::exynos`]), the Allwinner H6 IOMMU's
//! ([`formats::sun50i`]) and the NVIDIA Tegra30-generation SMMU's
//! ([`formats::tegra_smmu`]).
//!
//! * [`PageTable::map`] maps a range with the largest page or block the
//!   format allows at each step and is all-or-nothing.
//! * [`PageTable::unmap`] returns the bytes unmapped, splits blocks it cuts
//!   (break-before-make) and gives tables that become empty back to the pool.
//! * [`PageTable::iova_to_phys`] walks without side effects.
//!
//! # Concurrency
//! Several CPUs may map and unmap *disjoint* ranges at once (the DMA API's
//! contract). Descriptors are `AtomicU64` or `AtomicU32`. New tables are installed with a
//! compare-and-swap (`Release`, so the zeroed or filled table is visible
//! before its pointer; walks load table descriptors with `Acquire`).
//! Each non-root table has a live word (see [`pool`]): entries plus
//! in-flight reservations, a DEAD bit, and a generation. A mapper reserves
//! the entries it will write with one `fetch_add`, then re-walks to check the
//! table is still where it found it; a table is unlinked only by whoever
//! moves its word from zero to DEAD with a CAS, so a reservation and a
//! retirement cannot both succeed. See the book chapter "Page tables".

pub mod desc;
mod domain_ops;
pub mod format;
pub mod formats;
pub mod pool;
pub mod tlb;

mod engine;

pub use desc::MAIR;
pub use engine::{Handle, PageTable};
pub use format::{Desc, Format};
pub use formats::apple_dart::{AppleDart, Dart1, Dart2};
pub use formats::arm_v7s::ArmV7s;
pub use formats::exynos::Exynos;
pub use formats::lpae::{self, sizes, Geometry, LpaeFormat, Stage};
pub use formats::rockchip::Rockchip;
pub use formats::sun50i::Sun50i;
pub use formats::tegra_smmu::TegraSmmu;
pub use pool::{
    LiveWord, PageAllocPool, PageAllocator, StaticPool, Table16K, Table1K, Table4K, Table64K,
    TableMem, TablePool,
};
pub use tlb::{NoTlb, TlbOps};

/// Why a `map` call failed; the tables are as before the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// `size` is zero.
    Empty,
    /// `iova`, `paddr` or `size` is not a multiple of the granule.
    Misaligned,
    /// The range ends beyond the input address size.
    IovaOutOfRange,
    /// The range ends beyond the output address size.
    PaddrOutOfRange,
    /// Neither read nor write requested.
    NoAccess,
    /// Part of the range is already mapped.
    Overlap,
    /// The table pool is exhausted.
    NoMemory,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MapError::Empty => "empty range",
            MapError::Misaligned => "address or size not aligned to the granule",
            MapError::IovaOutOfRange => "IOVA beyond the input address size",
            MapError::PaddrOutOfRange => "physical address beyond the output address size",
            MapError::NoAccess => "neither read nor write permission",
            MapError::Overlap => "range overlaps an existing mapping",
            MapError::NoMemory => "page-table pool exhausted",
        })
    }
}

pub mod legal;

//! Arm SMMUv3: typed registers, in-memory structures and a bring-up driver.
//!
//! Layouts follow the Arm "System Memory Management Unit Architecture
//! Specification, SMMU architecture version 3" (IHI 0070). The module lives in
//! the runtime, not in one example kernel, because every kernel that drives an
//! SMMUv3 needs the same bit layouts; only the early-init hook that calls
//! [`Smmuv3::enable`] is per kernel (and, with the generator, per spec).
//!
//! | file | job |
//! |---|---|
//! | [`dma`] | caller memory shared with the SMMU, and the ordered publication of 64-byte entries |
//! | [`cache`] | cleaning and invalidation for SMMUs that do not snoop CPU caches |
//! | [`mmio`] | the fenced volatile register accessor, and the [`RegisterIo`] seam tests fake |
//! | [`regs`] | register offsets, ID-register decoding ([`Features`]), control-register values |
//! | [`ste`] | stream table entries |
//! | [`strtab`] | linear and two-level stream tables |
//! | [`cd`] | stage-1 context descriptors |
//! | [`cmd`] | command-queue commands and their encoding |
//! | [`event`] | event-queue records and their decoding |
//! | [`queue`] | producer/consumer index arithmetic shared by both queues |
//! | [`driver`] | the bring-up sequence, command submission, event draining |
//! | [`tlb`] | the page-table engine's `TlbOps` over the command queue |
//!
//! Everything the SMMU reads (stream table, context descriptors, queues) is
//! caller memory handed over as a [`DmaSlice`]: the runtime has no allocator,
//! and the caller knows the physical address of its memory.

pub mod cache;
pub mod cd;
pub mod cmd;
pub mod dma;
pub mod driver;
pub mod event;
pub mod mmio;
pub mod queue;
pub mod regs;
pub mod ste;
pub mod strtab;
pub mod tlb;

pub use cd::ContextDescriptor;
pub use cmd::Command;
pub use driver::{DmaSlice, Error, Memory, Smmuv3, StreamTableSize};
pub use event::{Event, EventKind};
pub use mmio::{Mmio, RegisterIo};
pub use regs::Features;
pub use ste::Ste;
pub use strtab::{StreamTable, StreamTableLayout, TwoLevel};
pub use tlb::SmmuTlb;

/// Extracts bits `[lsb, lsb + width)` of `value`.
#[inline]
pub(crate) const fn bits(value: u64, lsb: u32, width: u32) -> u64 {
    (value >> lsb) & ((1u64 << width) - 1)
}

/// Places `field` (truncated to `width` bits) at bit `lsb`.
#[inline]
pub(crate) const fn field(field: u64, lsb: u32, width: u32) -> u64 {
    (field & ((1u64 << width) - 1)) << lsb
}

#[cfg(test)]
mod fake;

//! What the generic page-table bench needs from one format variant: its
//! engine types, a pool, where its outputs sit, and the hand-written
//! descriptors its floor writes. Adding a format is one impl of
//! [`BenchFormat`] and one line in `pgtable_formats.rs`'s `all`.

use iommugen_runtime::pgtable::{Format, TablePool};

/// One entry of a floor's preallocated tables.
pub trait FloorWord: Copy + Default + 'static {
    fn of(v: u64) -> Self;
}

impl FloorWord for u32 {
    #[inline(always)]
    fn of(v: u64) -> Self {
        v as u32
    }
}

impl FloorWord for u64 {
    #[inline(always)]
    fn of(v: u64) -> Self {
        v
    }
}

pub trait BenchFormat {
    /// The group name in criterion's report.
    const NAME: &'static str;
    /// The format per-page operations, unmaps and lookups use.
    type Pages: Format;
    /// The format a one-call map uses (all its leaf sizes; may be `Pages`).
    type Sizes: Format;
    /// The pool; [`BenchFormat::pool`] places it at its physical base.
    type Pool: TablePool + Sync + 'static;
    /// The width of an entry, for the floor.
    type Word: FloorWord;
    /// Physical = IOVA + `PA_OFF` (aligned to the largest leaf).
    const PA_OFF: u64;
    /// One-call maps to run: a label and an extra output offset that
    /// limits the leaf size (e.g. one page off to force pages).
    const RANGE_SHIFTS: &'static [(&'static str, u64)] = &[("", 0)];
    /// Whether to run every measurement, or only the per-page map and
    /// unmap rows (the yardstick).
    const FULL: bool = true;

    /// The (empty) pool, placed at its physical base.
    fn pool() -> &'static Self::Pool;
    /// The leaf the engine writes for a page at `pa` with the bench's
    /// protection, written out by hand from the format's documentation.
    fn floor_leaf(pa: u64) -> u64;
    /// The entry pointing to a leaf table at `pa`, by hand.
    fn floor_table(pa: u64) -> u64;
}

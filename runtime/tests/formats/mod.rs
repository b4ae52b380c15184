//! One test harness for every non-LPAE page-table format: a small adapter
//! per format ([`FormatUnderTest`]) and, written once against it, the raw
//! memory reader, the model, the check of tables against the model through
//! the format's reference walker, and the random-operation driver.
//!
//! # Adding a format to the harness
//!
//! 1. In `tests/pgtable_<name>_props.rs`, declare `mod formats;` and a unit
//!    type (const parameters for the variants) implementing
//!    [`FormatUnderTest`]: the engine format, the pool slot type, the entry
//!    width, the walker's attribute type, the pool's physical base, the
//!    range units (smallest page first, largest last: the window is four of
//!    the largest), the bytes one last-level table maps (for splits), where
//!    the window and its outputs sit, and three calls
//!    into `iommugen_runtime::refwalk::<name>` (attributes expected from a
//!    `Prot`, written from the documentation; one walk; all leaves).
//! 2. Add a `proptest!` block calling [`driver::run`] per variant with a
//!    `static` pool small enough to run out of tables, and
//!    [`driver::cut_everywhere`] for the partial unmaps of the largest leaf
//!    or table.
//! 3. For benchmarks, add an adapter to `benches/pgtable_formats.rs`.
#![allow(dead_code, unused_imports)]

pub mod check;
pub mod driver;
pub mod memory;
pub mod model;

use std::fmt::Debug;

use iommugen_runtime::pgtable::{Format, TableMem};
use iommugen_runtime::Prot;

pub use check::check;
pub use memory::{reader, reader32, reader64, snapshot, Word};
pub use model::{normalise, Model, Span};

/// What the generic tests need to know about one format variant. Nothing
/// here may come from the engine's codec: attributes and walks come from
/// the documentation and the reference walker.
pub trait FormatUnderTest {
    /// The engine's format type.
    type F: Format;
    /// The pool slot: the size of a non-root table.
    type Mem: TableMem;
    /// The width of one entry as the walker reads it.
    type Word: Word;
    /// Leaf attributes as the reference walker reports them.
    type Attrs: Copy + Debug + Eq;

    /// Pool slots an empty table holds (its root tables).
    const ROOT_SLOTS: usize;
    /// Physical base of the test pools (aligned to the root).
    const POOL_PA: u64;
    /// Range step sizes for random operations, smallest (the page) first;
    /// the window is four of the last one.
    const UNITS: &'static [u64];
    /// Bytes one last-level table maps: cutting a leaf at least this
    /// large other than on such a boundary takes a new table (see
    /// `driver::split_found_no_table`).
    const TABLE_SPAN: u64;
    /// First input address of the test window.
    const WINDOW_BASE: u64;
    /// The output address `WINDOW_BASE` maps to (before a shift).
    const PA_BASE: u64;
    /// Output shifts a map picks from, so outputs vary in alignment.
    const PA_SHIFTS: &'static [u64];

    /// The attributes a mapping with `prot` must have.
    fn expected(prot: Prot) -> Self::Attrs;
    /// The walker's translation of `ia` from the table at `root`, or
    /// `None` if the walk faults.
    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> Self::Word) -> Option<(u64, Self::Attrs)>;
    /// Every leaf reachable from `root` and the number of non-root tables
    /// seen; an error for any malformed entry.
    fn leaves(root: u64, read: &dyn Fn(u64) -> Self::Word) -> Leaves<Self::Attrs>;
}

/// Every leaf and the number of non-root tables, or what is malformed.
pub type Leaves<A> = Result<(Vec<Span<A>>, usize), String>;

/// The window's width: four of the largest unit.
pub fn window<A: FormatUnderTest>() -> u64 {
    4 * A::UNITS[A::UNITS.len() - 1]
}

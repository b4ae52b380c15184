//! What the engine knows about a translation-table format: a geometry and a
//! descriptor codec, all fixed at compile time.
//!
//! The engine (walks, map, unmap, splitting, live counts, TLB gathering,
//! cache cleaning, both entry points) is written once against [`Format`].
//! A format supplies constants (levels, index bits, shifts, leaf sizes,
//! contiguous replication) and a handful of `#[inline(always)]` functions
//! that pack and unpack descriptors; every call has a constant level once
//! the engine's loops are unrolled, so the codec folds into the walk.
//!
//! Levels are numbered so that the last one is always 3: a two-level format
//! (ARMv7 short descriptors) uses levels 2 and 3, LPAE with a level-0 start
//! uses 0 to 3. Arrays indexed by level have four slots; slots below
//! [`Format::START`] are ignored.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::prot::Prot;

/// A descriptor slot in table memory: 32 or 64 bits, accessed atomically.
/// The engine handles descriptor *values* as `u64` in registers; a 32-bit
/// slot truncates on store and widens on load.
///
/// # Safety
/// `BYTES` is the size and alignment of `Self`, which is a plain atomic
/// integer (so table memory can be read as an array of them).
pub unsafe trait Desc: Sync + 'static {
    /// log2 of the slot size in bytes (2 or 3).
    const SHIFT: u32;
    fn load(&self, o: Ordering) -> u64;
    fn store(&self, v: u64, o: Ordering);
    fn compare_exchange(&self, cur: u64, new: u64, s: Ordering, f: Ordering) -> Result<u64, u64>;
    /// Write `n` descriptors `d0, d0 + step, ...` from `first` with plain
    /// stores.
    ///
    /// # Safety
    /// `first..first + n` lies in one table that only the caller accesses.
    unsafe fn fill_linear(first: *const Self, n: usize, d0: u64, step: u64);
}

macro_rules! desc_impl {
    ($atomic:ty, $int:ty, $shift:expr) => {
        // SAFETY: a plain atomic integer of `1 << $shift` bytes.
        unsafe impl Desc for $atomic {
            const SHIFT: u32 = $shift;
            #[inline(always)]
            fn load(&self, o: Ordering) -> u64 {
                <$atomic>::load(self, o) as u64
            }
            #[inline(always)]
            fn store(&self, v: u64, o: Ordering) {
                <$atomic>::store(self, v as $int, o)
            }
            #[inline(always)]
            fn compare_exchange(
                &self,
                cur: u64,
                new: u64,
                s: Ordering,
                f: Ordering,
            ) -> Result<u64, u64> {
                <$atomic>::compare_exchange(self, cur as $int, new as $int, s, f)
                    .map(|v| v as u64)
                    .map_err(|v| v as u64)
            }
            #[inline(always)]
            unsafe fn fill_linear(first: *const Self, n: usize, d0: u64, step: u64) {
                // SAFETY: the caller owns `n` slots from `first`; the atomic
                // has the layout of the integer and its value lives in an
                // `UnsafeCell`, so plain stores through it are allowed.
                let s =
                    unsafe { core::slice::from_raw_parts_mut(first.cast_mut().cast::<$int>(), n) };
                for (i, d) in s.iter_mut().enumerate() {
                    *d = (d0 + i as u64 * step) as $int;
                }
            }
        }
    };
}
desc_impl!(AtomicU64, u64, 3);
desc_impl!(AtomicU32, u32, 2);

/// A translation-table format: geometry (associated constants) and
/// descriptor codec (functions of a constant level).
///
/// The all-zero descriptor is invalid at every level (tables come zeroed
/// from the pool and empty slots are zero). Leaves of a contiguous group
/// (`CONTIG[level] != 0`) are that many identical descriptors naming the
/// group's base address, as ARMv7 large pages and supersections are.
pub trait Format: 'static {
    /// Descriptor slot type: `AtomicU64` or `AtomicU32`.
    type Desc: Desc;
    /// The format's own compile-time check (forced by `PageTable::new`);
    /// the engine adds its own consistency checks of the constants.
    const VALID: () = ();
    /// log2 of the smallest page: every address and size is a multiple.
    const GRANULE_SHIFT: u32;
    /// Input (IOVA) address size in bits.
    const IAS: u32;
    /// Output (physical) address size in bits.
    const OAS: u32;
    /// Physical addresses a table descriptor can hold, in bits (the pool
    /// must hand out tables below `1 << TABLE_PA_BITS`; the engine refuses
    /// others as if the pool were empty).
    const TABLE_PA_BITS: u32;
    /// Allowed leaf sizes: bit `n` set allows a `1 << n` mapping.
    const PAGE_SIZES: u64;
    /// The walker snoops CPU caches, so no cache clean after descriptor writes.
    const COHERENT_WALK: bool;
    /// First level of the walk (the last is 3).
    const START: u32;
    /// Address bits below each level's index: an entry at `level` maps
    /// `1 << SHIFT[level]` bytes.
    const SHIFT: [u32; 4];
    /// Index bits resolved at each level (at `START`, over all root tables).
    const INDEX_BITS: [u32; 4];
    /// log2 of the entries a contiguous leaf replicates at each level (0:
    /// none). The group maps `1 << (SHIFT + CONTIG)` bytes.
    const CONTIG: [u32; 4];
    /// Root tables the hardware is given (several TTBRs, or concatenated
    /// stage-2 tables), laid out contiguously; informative for drivers.
    const ROOT_TABLES: u32;
    /// Whether a leaf's address field is the output address itself, so
    /// that leaf descriptors for consecutive blocks differ by the block
    /// size (lets the engine fill runs with one add per entry).
    const LINEAR_OA: bool;
    /// Where `LINEAR_OA` is false because the address bits from
    /// `LINEAR_OA_WITHIN` up are stored out of place (Rockchip v2, PA 32-39
    /// in bits 11:4): consecutive leaves still differ by the block size
    /// while the output stays inside one aligned `1 << LINEAR_OA_WITHIN`
    /// block, so exclusive fills of such runs use one add per entry. 0:
    /// no such block.
    const LINEAR_OA_WITHIN: u32 = 0;

    /// Format-neutral leaf attributes for `prot` (computed once per map).
    fn attrs(prot: Prot) -> u64;
    /// A leaf at `level` for output address `pa` with `attrs`; `contig`
    /// selects the replicated form (only where `CONTIG[level] != 0`).
    fn leaf(pa: u64, attrs: u64, level: u32, contig: bool) -> u64;
    /// The neutral attributes of the leaf `d` at `level` (for splitting).
    fn leaf_attrs(d: u64, level: u32) -> u64;
    /// The output address of the (non-zero, non-table) leaf `d`: the base of
    /// its block, or of its group when contiguous.
    fn leaf_addr(d: u64, level: u32) -> u64;
    /// Whether the leaf `d` at `level` is one of a contiguous group.
    fn is_contig(d: u64, level: u32) -> bool;
    /// A table descriptor at `level` for the next-level table at `pa`.
    fn table(pa: u64, level: u32) -> u64;
    /// Whether the non-zero `d` at `level` points to a next-level table.
    fn is_table(d: u64, level: u32) -> bool;
    /// The next-level table address in the table descriptor `d`.
    fn table_addr(d: u64, level: u32) -> u64;
}

/// Quantities the engine derives from any [`Format`], and its compile-time
/// check that the constants agree with each other.
pub(crate) struct Derived<F>(core::marker::PhantomData<F>);

impl<F: Format> Derived<F> {
    /// log2 of a non-root table's bytes (every non-root level the same).
    pub const TABLE_SHIFT: u32 = F::INDEX_BITS[3] + <F::Desc as Desc>::SHIFT;
    /// Pool slots (non-root tables) the root takes, as an order.
    pub const ROOT_ORDER: u32 = {
        let root = F::INDEX_BITS[F::START as usize] + <F::Desc as Desc>::SHIFT;
        root.saturating_sub(Self::TABLE_SHIFT)
    };

    pub const VALID: () = {
        assert!(F::START <= 3, "START must be at most 3");
        assert!(F::SHIFT[3] == F::GRANULE_SHIFT, "last level maps granules");
        let mut l = F::START as usize;
        while l < 3 {
            assert!(
                F::SHIFT[l] == F::SHIFT[l + 1] + F::INDEX_BITS[l + 1],
                "a level's shift is the next one's plus its index bits"
            );
            if l > F::START as usize {
                assert!(
                    F::INDEX_BITS[l] == F::INDEX_BITS[3],
                    "non-root tables must all have one size"
                );
            }
            l += 1;
        }
        assert!(
            F::SHIFT[F::START as usize] + F::INDEX_BITS[F::START as usize] >= F::IAS,
            "the root does not cover the IAS"
        );
        assert!(F::IAS <= 63 && F::OAS <= 63, "address sizes must fit u64");
        assert!(
            F::PAGE_SIZES & (1 << F::GRANULE_SHIFT) != 0,
            "page sizes must include the granule"
        );
        let mut bits = F::PAGE_SIZES;
        while bits != 0 {
            let s = bits.trailing_zeros();
            bits &= bits - 1;
            let mut ok = false;
            let mut l = F::START as usize;
            while l <= 3 {
                if s == F::SHIFT[l] || (F::CONTIG[l] != 0 && s == F::SHIFT[l] + F::CONTIG[l]) {
                    ok = true;
                }
                l += 1;
            }
            assert!(ok, "a page size is no level's leaf or contiguous size");
        }
    };

    /// Shift of the address bits a level-`level` entry maps.
    #[inline(always)]
    pub const fn shift(level: u32) -> u32 {
        F::SHIFT[(level & 3) as usize]
    }

    /// Entries in the table at `level`.
    #[inline(always)]
    pub const fn entries(level: u32) -> usize {
        1 << F::INDEX_BITS[(level & 3) as usize]
    }

    /// Index of `iova` in the level-`level` table that maps it.
    #[inline(always)]
    pub const fn index(level: u32, iova: u64) -> usize {
        ((iova >> Self::shift(level)) as usize) & (Self::entries(level) - 1)
    }

    /// Whether a single-entry leaf may be placed at `level`.
    #[inline(always)]
    pub const fn leaf_allowed(level: u32) -> bool {
        F::PAGE_SIZES & (1 << Self::shift(level)) != 0
    }

    /// log2 of the entries in a contiguous group at `level`, if allowed.
    #[inline(always)]
    pub const fn contig(level: u32) -> u32 {
        let c = F::CONTIG[(level & 3) as usize];
        if c != 0 && F::PAGE_SIZES & (1 << (Self::shift(level) + c)) != 0 {
            c
        } else {
            0
        }
    }

    /// Whether any level of the format may hold contiguous leaves (a
    /// constant, so the engine's contiguous paths vanish for LPAE).
    pub const HAS_CONTIG: bool =
        Self::contig(0) | Self::contig(1) | Self::contig(2) | Self::contig(3) != 0;
}

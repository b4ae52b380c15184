//! The stream table: one linear array of STEs, or two levels, where a
//! level-1 descriptor per 2^SPLIT StreamIDs points at a level-2 array
//! installed only when one of those StreamIDs gets a master.
//!
//! Two levels keep the memory proportional to the StreamIDs in use: a tree
//! whose `iommu-map` spans 2^16 requester IDs needs a 4 MiB linear table,
//! but 2 KiB of level 1 plus 16 KiB per populated group of 256 StreamIDs.

use super::driver::{DmaSlice, Error, StreamTableSize};
use super::regs::{self, Features, StreamTableFormat};
use super::ste::Ste;

/// Level-1 descriptor: L2Ptr in `[51:6]`, Span in `[4:0]` (the level-2 array has
/// 2^(Span - 1) STEs; 0 = no array).
pub const fn l1_descriptor(l2_phys: u64, split: u8) -> u64 {
    (l2_phys & (((1u64 << 52) - 1) & !0x3f)) | (split as u64 + 1)
}

/// Which layout to allocate for a tree's largest StreamID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamTableLayout {
    Linear { log2_entries: u8 },
    TwoLevel { log2_entries: u8, split: u8 },
}

/// Level-2 arrays of 2^8 STEs (16 KiB), as Linux uses.
pub const DEFAULT_SPLIT: u8 = 8;

impl StreamTableLayout {
    /// Linear up to 2^10 STEs (64 KiB) or when the SMMU has only linear
    /// tables; two-level (SPLIT 8) beyond.
    pub fn choose(features: &Features, max_sid: u32) -> StreamTableLayout {
        let n = StreamTableSize::for_max_stream_id(features, max_sid).log2_entries;
        if n <= 10 || !features.two_level_strtab {
            StreamTableLayout::Linear { log2_entries: n }
        } else {
            StreamTableLayout::TwoLevel {
                log2_entries: n,
                split: DEFAULT_SPLIT,
            }
        }
    }

    /// Level-1 descriptors (two-level) or STEs (linear).
    pub fn top_entries(self) -> usize {
        match self {
            StreamTableLayout::Linear { log2_entries } => 1 << log2_entries,
            StreamTableLayout::TwoLevel {
                log2_entries,
                split,
            } => 1 << (log2_entries - split),
        }
    }

    /// Bytes of the top-level table, which is also its alignment.
    pub fn top_bytes(self) -> usize {
        match self {
            StreamTableLayout::Linear { .. } => self.top_entries() * 64,
            StreamTableLayout::TwoLevel { .. } => (self.top_entries() * 8).max(64),
        }
    }
}

/// Level 1 and the level-2 arrays installed so far.
#[derive(Debug)]
pub struct TwoLevel<'a> {
    l1: DmaSlice<'a, u64>,
    split: u8,
    l2: &'a mut [Option<DmaSlice<'a, Ste>>],
}

impl<'a> TwoLevel<'a> {
    /// `l1`: a power of two of descriptors, aligned to its size (at least
    /// 64 bytes); `split`: 6, 8 or 10 (level-2 arrays of 4, 16 or 64 KiB);
    /// `l2`: one slot per descriptor, to remember installed arrays.
    pub fn new(
        l1: DmaSlice<'a, u64>,
        split: u8,
        l2: &'a mut [Option<DmaSlice<'a, Ste>>],
    ) -> Result<TwoLevel<'a>, Error> {
        if !matches!(split, 6 | 8 | 10) || l2.len() != l1.len() {
            return Err(Error::BadMemory("two-level stream table"));
        }
        Ok(TwoLevel { l1, split, l2 })
    }
}

/// Where the STEs live.
#[derive(Debug)]
pub enum StreamTable<'a> {
    Linear(DmaSlice<'a, Ste>),
    TwoLevel(TwoLevel<'a>),
}

impl<'a> StreamTable<'a> {
    /// log2 of the StreamIDs covered, after checking the memory against the
    /// SMMU's limits.
    pub(crate) fn check(&self, f: &Features) -> Result<u8, Error> {
        let bad = Error::BadMemory("stream table");
        let n = match self {
            StreamTable::Linear(t) => {
                if !t.aligned_to_size(64) {
                    return Err(bad);
                }
                t.log2_len().ok_or(bad)?
            }
            StreamTable::TwoLevel(t) => {
                if !f.two_level_strtab {
                    return Err(Error::Unsupported("two-level stream tables"));
                }
                if !t.l1.aligned_to_size(64) {
                    return Err(bad);
                }
                t.l1.log2_len().ok_or(bad)? + t.split
            }
        };
        if n > f.sid_bits {
            return Err(bad);
        }
        Ok(n)
    }

    /// STRTAB_BASE and STRTAB_BASE_CFG for a table covering 2^n StreamIDs.
    pub(crate) fn registers(&self, n: u8) -> (u64, u32) {
        let (phys, fmt, split) = match self {
            StreamTable::Linear(t) => (t.phys(), StreamTableFormat::Linear, 0),
            StreamTable::TwoLevel(t) => (t.l1.phys(), StreamTableFormat::TwoLevel, t.split),
        };
        (
            regs::BASE_ALLOCATE_HINT | (phys & regs::BASE_ADDR_MASK & !0x3f),
            regs::strtab_base_cfg(fmt, split, n),
        )
    }

    /// Every STE abort (linear), or every level-1 descriptor empty.
    pub(crate) fn reset(&mut self, coherent: bool) {
        match self {
            StreamTable::Linear(t) => {
                for i in 0..t.len() {
                    t.write(i, Ste::abort());
                }
                if !coherent {
                    t.clean(None);
                }
            }
            StreamTable::TwoLevel(t) => {
                for i in 0..t.l1.len() {
                    t.l1.write(i, 0);
                }
                for slot in t.l2.iter_mut() {
                    *slot = None;
                }
                if !coherent {
                    t.l1.clean(None);
                }
            }
        }
    }

    /// The array holding `sid`'s STE and its index there.
    pub(crate) fn locate(&self, sid: u32) -> Result<(&DmaSlice<'a, Ste>, usize), Error> {
        match self {
            StreamTable::Linear(t) if (sid as usize) < t.len() => Ok((t, sid as usize)),
            StreamTable::Linear(_) => Err(Error::StreamIdOutOfRange(sid)),
            StreamTable::TwoLevel(t) => {
                let l1 = (sid >> t.split) as usize;
                let l2 = t.l2.get(l1).ok_or(Error::StreamIdOutOfRange(sid))?;
                let l2 = l2.as_ref().ok_or(Error::NoLevel2(sid))?;
                Ok((l2, (sid & ((1 << t.split) - 1)) as usize))
            }
        }
    }

    /// As [`Self::locate`], for publishing the STE.
    pub(crate) fn locate_mut(
        &mut self,
        sid: u32,
    ) -> Result<(&mut DmaSlice<'a, Ste>, usize), Error> {
        match self {
            StreamTable::Linear(t) if (sid as usize) < t.len() => Ok((t, sid as usize)),
            StreamTable::Linear(_) => Err(Error::StreamIdOutOfRange(sid)),
            StreamTable::TwoLevel(t) => {
                let l1 = (sid >> t.split) as usize;
                let l2 = t.l2.get_mut(l1).ok_or(Error::StreamIdOutOfRange(sid))?;
                let l2 = l2.as_mut().ok_or(Error::NoLevel2(sid))?;
                Ok((l2, (sid & ((1 << t.split) - 1)) as usize))
            }
        }
    }

    /// For a two-level table without an array for `sid`: the level-1 index,
    /// the number of STEs the array needs, and the StreamID range's first ID.
    pub(crate) fn missing_l2(&self, sid: u32) -> Option<(usize, usize, u32)> {
        match self {
            StreamTable::TwoLevel(t) => {
                let l1 = (sid >> t.split) as usize;
                match t.l2.get(l1) {
                    Some(None) => Some((l1, 1 << t.split, (l1 as u32) << t.split)),
                    _ => None,
                }
            }
            StreamTable::Linear(_) => None,
        }
    }

    /// Fills `array` with abort STEs and points level-1 descriptor `l1` at
    /// it. The caller invalidates the SMMU's cached copy.
    pub(crate) fn install(
        &mut self,
        l1: usize,
        mut array: DmaSlice<'a, Ste>,
        coherent: bool,
    ) -> Result<(), Error> {
        let StreamTable::TwoLevel(t) = self else {
            return Err(Error::BadMemory("level-2 array for a linear table"));
        };
        if array.len() != 1 << t.split || !array.aligned_to_size(64) {
            return Err(Error::BadMemory("level-2 stream table"));
        }
        for i in 0..array.len() {
            array.write(i, Ste::abort());
        }
        if !coherent {
            array.clean(None);
        }
        let desc = l1_descriptor(array.phys(), t.split);
        let slot = t.l2.get_mut(l1).ok_or(Error::BadMemory("level-1 index"))?;
        *slot = Some(array);
        t.l1.write(l1, desc);
        if !coherent {
            t.l1.clean(Some(l1));
        }
        Ok(())
    }

    /// SPLIT of a two-level table.
    pub(crate) fn split(&self) -> Option<u8> {
        match self {
            StreamTable::TwoLevel(t) => Some(t.split),
            StreamTable::Linear(_) => None,
        }
    }

    /// STEs reachable now.
    pub(crate) fn entries(&self) -> usize {
        match self {
            StreamTable::Linear(t) => t.len(),
            StreamTable::TwoLevel(t) => t.l2.iter().flatten().map(|a| a.len()).sum(),
        }
    }
}

//! Shared by the Exynos SysMMU tests: reading the engine's raw table memory
//! as 32-bit entries, a plain model of what should be mapped, and the check
//! of one against the other through the reference walker.
#![allow(dead_code)]

use iommugen_runtime::pgtable::{StaticPool, Table1K, TablePool};
use iommugen_runtime::refwalk::exynos::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;
use std::sync::atomic::{AtomicU32, Ordering};

/// Physical base of the v1-v4 test pools: 16 KiB aligned (the first-level
/// table is the pool's first allocation) and below 4 GiB.
pub const POOL_PA_V1: u64 = 0x4000_0000;
/// Physical base of the v5+ test pools: above 4 GiB (PA bits 35:32 = 0xb),
/// so every table pointer needs the shifted encoding.
pub const POOL_PA_V5: u64 = 0xb_8000_0000;

pub fn pool_pa(version: u32) -> u64 {
    if version >= 5 {
        POOL_PA_V5
    } else {
        POOL_PA_V1
    }
}

/// Reads one entry from a pool's memory by physical address.
pub fn reader<const N: usize>(pool: &StaticPool<Table1K, N>) -> impl Fn(u64) -> u32 + '_ {
    let (mem, len) = pool.memory();
    let base = pool.phys_base();
    move |pa: u64| {
        let off = pa.checked_sub(base).expect("entry below the pool") as usize;
        assert!(off + 4 <= len, "entry beyond the pool: {pa:#x}");
        assert!(off % 4 == 0, "unaligned entry: {pa:#x}");
        // SAFETY: in bounds and 4-aligned; pool memory is atomics.
        unsafe { (*(mem.add(off) as *const AtomicU32)).load(Ordering::Relaxed) }
    }
}

/// A copy of the pool's table memory, to compare before and after.
pub fn snapshot<const N: usize>(pool: &StaticPool<Table1K, N>) -> Vec<u8> {
    let (_, len) = pool.memory();
    let read = reader(pool);
    let base = pool.phys_base();
    (0..len as u64 / 4)
        .flat_map(|i| read(base + i * 4).to_le_bytes())
        .collect()
}

/// The permissions a mapping with `prot` must have, from Linux's
/// protection tables (book, "Page-table formats"), not from the code:
/// before v5 write-only becomes read/write.
pub fn expected_attrs(version: u32, prot: Prot) -> Attrs {
    let write = prot.contains(Prot::WRITE);
    Attrs {
        read: prot.contains(Prot::READ) || (version < 5 && write),
        write,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub attrs: Attrs,
}

/// What should be mapped: disjoint intervals with attributes.
#[derive(Default, Debug, Clone)]
pub struct Model {
    pub spans: Vec<Span>,
}

impl Model {
    pub fn overlaps(&self, ia: u64, size: u64) -> bool {
        self.spans
            .iter()
            .any(|s| s.ia < ia + size && ia < s.ia + s.size)
    }

    pub fn map(&mut self, ia: u64, size: u64, pa: u64, attrs: Attrs) {
        assert!(!self.overlaps(ia, size));
        self.spans.push(Span {
            ia,
            size,
            pa,
            attrs,
        });
    }

    /// Remove `[ia, ia + size)`; returns the bytes that were mapped.
    pub fn unmap(&mut self, ia: u64, size: u64) -> u64 {
        let end = ia + size;
        let mut removed = 0;
        let mut kept = Vec::new();
        for s in self.spans.drain(..) {
            let s_end = s.ia + s.size;
            if s_end <= ia || end <= s.ia {
                kept.push(s);
                continue;
            }
            let (lo, hi) = (s.ia.max(ia), s_end.min(end));
            removed += hi - lo;
            if s.ia < lo {
                kept.push(Span {
                    size: lo - s.ia,
                    ..s
                });
            }
            if hi < s_end {
                kept.push(Span {
                    ia: hi,
                    size: s_end - hi,
                    pa: s.pa + (hi - s.ia),
                    attrs: s.attrs,
                });
            }
        }
        self.spans = kept;
        removed
    }

    pub fn lookup(&self, ia: u64) -> Option<u64> {
        self.spans
            .iter()
            .find(|s| s.ia <= ia && ia < s.ia + s.size)
            .map(|s| s.pa + (ia - s.ia))
    }
}

/// Sort and join intervals that continue each other.
pub fn normalise(mut v: Vec<Span>) -> Vec<Span> {
    v.sort_by_key(|s| s.ia);
    let mut out: Vec<Span> = Vec::new();
    for s in v {
        if let Some(last) = out.last_mut() {
            if last.ia + last.size == s.ia && last.pa + last.size == s.pa && last.attrs == s.attrs {
                last.size += s.size;
                continue;
            }
        }
        out.push(s);
    }
    out
}

/// The raw tables hold exactly the model (through the reference walker),
/// the pool holds the reachable second-level tables plus the 16-slot root,
/// and sample addresses translate alike in engine, walker and model.
pub fn check<const N: usize>(
    cfg: &WalkConfig,
    root: u64,
    pool: &StaticPool<Table1K, N>,
    model: &Model,
    engine: &dyn Fn(u64) -> Option<u64>,
) {
    let read = reader(pool);
    let (found, tables) = leaves(cfg, root, &read).expect("malformed tables");
    let found = found
        .iter()
        .map(|l| Span {
            ia: l.ia,
            size: l.size,
            pa: l.pa,
            attrs: l.attrs,
        })
        .collect();
    assert_eq!(
        normalise(found),
        normalise(model.spans.clone()),
        "tables differ from the model"
    );
    assert_eq!(pool.in_use(), tables + 16, "pool: reachable tables + root");
    for s in &model.spans {
        for ia in [s.ia, s.ia + s.size / 2, s.ia + s.size - 1] {
            let t = walk(cfg, root, ia as u32, &read).expect("mapped address faults");
            assert_eq!((t.pa, t.attrs), (s.pa + (ia - s.ia), s.attrs));
            assert_eq!(engine(ia), Some(t.pa));
        }
        for ia in [s.ia.wrapping_sub(1), s.ia + s.size] {
            if ia >> 32 == 0 && model.lookup(ia).is_none() {
                assert!(walk(cfg, root, ia as u32, &read).is_err());
                assert_eq!(engine(ia), None);
            }
        }
    }
}

//! Shared by the Apple DART tests: reading the engine's raw table memory as
//! 64-bit entries, a plain model of what should be mapped, and the check of
//! one against the other through the reference walker.
#![allow(dead_code)]

use iommugen_runtime::pgtable::{StaticPool, Table16K, TablePool};
use iommugen_runtime::refwalk::apple_dart::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;
use std::sync::atomic::{AtomicU64, Ordering};

/// Physical address of every test pool: 16 KiB aligned, above 4 GiB (so
/// table pointers exercise the high address bits) and below 2^36.
pub const POOL_PA: u64 = 0x8_0000_0000;
/// Bytes of a page and of a table.
pub const PAGE: u64 = 1 << 14;

/// Reads one entry from a pool's memory by physical address.
pub fn reader<const N: usize>(pool: &StaticPool<Table16K, N>) -> impl Fn(u64) -> u64 + '_ {
    let (mem, len) = pool.memory();
    let base = pool.phys_base();
    move |pa: u64| {
        let off = pa.checked_sub(base).expect("entry below the pool") as usize;
        assert!(off + 8 <= len, "entry beyond the pool: {pa:#x}");
        // SAFETY: in bounds and 8-aligned (tables are 16 KiB aligned and
        // entries 8 bytes); pool memory is atomics.
        unsafe { (*(mem.add(off) as *const AtomicU64)).load(Ordering::Relaxed) }
    }
}

/// A copy of the pool's table memory, to compare before and after.
pub fn snapshot<const N: usize>(pool: &StaticPool<Table16K, N>) -> Vec<u64> {
    let (_, len) = pool.memory();
    let read = reader(pool);
    let base = pool.phys_base();
    (0..len as u64 / 8).map(|i| read(base + i * 8)).collect()
}

/// The attributes a mapping with `prot` must have, from the format's
/// documented mapping (book, "Page-table formats"), not from its code.
pub fn expected_attrs(generation: u8, prot: Prot) -> Attrs {
    Attrs {
        read: prot.contains(Prot::READ),
        write: prot.contains(Prot::WRITE),
        no_cache: generation == 2 && !prot.contains(Prot::CACHE),
        subpage_disabled: generation == 1,
        subpage: (0, 0xfff),
    }
}

/// The TTBRs of a table whose contiguous root holds `n` first-level tables.
pub fn ttbrs(root: u64, n: u32) -> Vec<u64> {
    (0..u64::from(n)).map(|i| root + i * PAGE).collect()
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

    /// Every mapped page as (ia, pa, attrs), in IOVA order.
    pub fn pages(&self) -> Vec<(u64, u64, Attrs)> {
        let mut v: Vec<_> = self
            .spans
            .iter()
            .flat_map(|s| {
                (0..s.size / PAGE).map(move |k| (s.ia + k * PAGE, s.pa + k * PAGE, s.attrs))
            })
            .collect();
        v.sort_by_key(|p| p.0);
        v
    }
}

/// The raw tables hold exactly the model's pages (through the reference
/// walker), the pool holds the reachable second-level tables plus the
/// `root_slots` of the root, and sample addresses translate alike in
/// engine, walker and model.
pub fn check<const N: usize>(
    cfg: &WalkConfig,
    ttbrs: &[u64],
    root_slots: usize,
    pool: &StaticPool<Table16K, N>,
    model: &Model,
    engine: &dyn Fn(u64) -> Option<u64>,
) {
    let read = reader(pool);
    let (found, tables) = leaves(cfg, ttbrs, &read).expect("malformed tables");
    let found: Vec<_> = found.iter().map(|l| (l.ia, l.pa, l.attrs)).collect();
    assert_eq!(found, model.pages(), "tables differ from the model");
    assert_eq!(
        pool.in_use(),
        tables + root_slots,
        "pool accounting: reachable tables + root"
    );
    for s in &model.spans {
        for ia in [s.ia, s.ia + s.size / 2 + 0x123, s.ia + s.size - 1] {
            let t = walk(cfg, ttbrs, ia, &read).expect("mapped address faults");
            assert_eq!((t.pa, t.attrs), (s.pa + (ia - s.ia), s.attrs));
            assert_eq!(engine(ia), Some(t.pa));
        }
        for ia in [s.ia.wrapping_sub(1), s.ia + s.size] {
            if ia >> cfg.ias == 0 && model.lookup(ia).is_none() {
                assert!(walk(cfg, ttbrs, ia, &read).is_err());
                assert_eq!(engine(ia), None);
            }
        }
    }
}

//! Test harness: a plain model of what should be mapped, and checks of the
//! engine's raw table memory against it through the reference walker.
#![allow(dead_code)]

use super::{leaves, walk, Attrs, Fault, WalkConfig};
use iommugen_runtime::pgtable::{LpaeFormat, Stage, StaticPool, TableMem, TablePool};
use iommugen_runtime::Prot;
use std::sync::atomic::{AtomicU64, Ordering};

/// Attributes a mapping with `prot` must have, worked out from the engine's
/// documented prot mapping (book chapter "Page tables"), not from its code.
pub fn expected_attrs(stage2: bool, prot: Prot) -> Attrs {
    let memtype = if prot.contains(Prot::MMIO) {
        2
    } else if prot.contains(Prot::CACHE) {
        1
    } else {
        0
    };
    if stage2 {
        Attrs {
            read: prot.contains(Prot::READ),
            write: prot.contains(Prot::WRITE),
            exec: !prot.contains(Prot::NOEXEC),
            unpriv: true,
            memtype,
            access_flag: true,
        }
    } else {
        Attrs {
            read: true,
            write: prot.contains(Prot::WRITE),
            exec: !prot.contains(Prot::NOEXEC),
            unpriv: !prot.contains(Prot::PRIV),
            memtype,
            access_flag: true,
        }
    }
}

pub fn config<F: LpaeFormat>() -> WalkConfig {
    WalkConfig::new(
        matches!(F::STAGE, Stage::Two),
        1 << F::GRANULE_SHIFT,
        F::IAS,
        F::OAS,
    )
}

/// Reads descriptors from a static pool's memory by physical address.
pub fn reader<T: TableMem, const N: usize>(pool: &StaticPool<T, N>) -> impl Fn(u64) -> u64 + '_ {
    let (mem, len) = pool.memory();
    let base = pool.phys_base();
    move |pa: u64| {
        let off = pa
            .checked_sub(base)
            .expect("descriptor address below the pool") as usize;
        assert!(
            off + 8 <= len,
            "descriptor address beyond the pool: {pa:#x}"
        );
        // SAFETY: in bounds and 8-aligned (table addresses are granule
        // aligned); the pool's memory is AtomicU64s.
        unsafe { (*(mem.add(off) as *const AtomicU64)).load(Ordering::Relaxed) }
    }
}

/// One mapped interval of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub attrs: Attrs,
}

/// What should be mapped: disjoint intervals, each with its attributes.
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
            let lo = s.ia.max(ia);
            let hi = s_end.min(end);
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

    pub fn lookup(&self, ia: u64) -> Option<(u64, Attrs)> {
        self.spans
            .iter()
            .find(|s| s.ia <= ia && ia < s.ia + s.size)
            .map(|s| (s.pa + (ia - s.ia), s.attrs))
    }
}

/// Sort and join touching intervals that continue each other.
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

/// Check the raw tables against the model: every leaf the reference walker
/// finds is in the model and vice versa, the pool holds exactly the tables
/// reachable plus the root, and sample addresses translate alike through the
/// engine, the walker and the model.
pub fn check<T: TableMem, const N: usize>(
    cfg: &WalkConfig,
    root: u64,
    pool: &StaticPool<T, N>,
    root_tables: usize,
    model: &Model,
    engine_lookup: &dyn Fn(u64) -> Option<u64>,
) {
    let read = reader(pool);
    let (found, tables) =
        leaves(cfg, root, &read).expect("tables hold an encoding the engine must never write");
    let found: Vec<Span> = found
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
    assert_eq!(
        pool.in_use(),
        tables + root_tables,
        "pool accounting: reachable tables + root"
    );
    for s in &model.spans {
        for ia in [s.ia, s.ia + s.size / 2, s.ia + s.size - 1] {
            let t = walk(cfg, root, ia, &read).expect("mapped address faults");
            assert_eq!(t.pa, s.pa + (ia - s.ia));
            assert_eq!(t.attrs, s.attrs);
            assert_eq!(engine_lookup(ia), Some(t.pa));
        }
        for ia in [s.ia.wrapping_sub(1), s.ia + s.size] {
            if ia >> cfg.ias == 0 && model.lookup(ia).is_none() {
                assert!(matches!(
                    walk(cfg, root, ia, &read),
                    Err(Fault::Translation { .. })
                ));
                assert_eq!(engine_lookup(ia), None);
            }
        }
    }
}

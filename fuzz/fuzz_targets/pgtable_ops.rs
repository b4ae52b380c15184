//! Map / unmap / lookup sequences decoded from fuzzer bytes, applied to the
//! LPAE engine for six formats (4K/16K/64K granules, stage 1 and 2) with a
//! small `StaticPool`, checked after every operation against a plain model
//! (an interval map: IOVA → length, PA, prot):
//! - every model boundary translates as the model says, and its leaf
//!   descriptor is exactly address | attributes of the prot | type;
//! - a map fails exactly when the model predicts (or with `NoMemory`), and a
//!   failed map leaves the table memory byte-identical and the pool as it was;
//! - unmap returns the bytes the model held there (less only when a split
//!   ran out of tables, after which the model drops those bytes in order);
//! - unmapping everything gives every table back.
//!
//! One file with no helpers elsewhere, so it follows the engine as it moves.
#![no_main]

use std::collections::BTreeMap;

use iommugen_runtime::pgtable::desc::{encode_addr, is_table, leaf_attrs, leaf_type};
use iommugen_runtime::pgtable::lpae::*;
use iommugen_runtime::pgtable::{
    Geometry, LpaeFormat, MapError, NoTlb, PageTable, StaticPool, Table16K, Table4K, Table64K,
    TableMem, TablePool,
};
use iommugen_runtime::refwalk::lpae::{walk, WalkConfig};
use iommugen_runtime::Prot;
use libfuzzer_sys::fuzz_target;

/// Physical address of every pool (1 GiB: aligned for any root).
const POOL_PA: u64 = 0x4000_0000;

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    match input.u8() % 6 {
        0 => run::<S1G4K48, Table4K, 32>(&mut input),
        1 => run::<S1G16K47, Table16K, 16>(&mut input),
        2 => run::<S1G64K52, Table64K, 8>(&mut input),
        3 => run::<S2G4K40, Table4K, 32>(&mut input),
        4 => run::<S2G16K48, Table16K, 16>(&mut input),
        _ => run::<S2G64K44, Table64K, 8>(&mut input),
    }
});

/// The fuzzer's bytes, read front to back; zeros once used up.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, i| v | u64::from(self.u8()) << (8 * i))
    }
}

/// The model: live mappings by first IOVA → (length, PA, prot).
#[derive(Default)]
struct Model(BTreeMap<u64, (u64, u64, Prot)>);

impl Model {
    fn overlaps(&self, ia: u64, size: u64) -> bool {
        let end = ia + size;
        self.0
            .range(..end)
            .next_back()
            .is_some_and(|(&s, &(len, _, _))| s + len > ia)
    }

    fn lookup(&self, ia: u64) -> Option<(u64, Prot)> {
        let (&s, &(len, pa, prot)) = self.0.range(..=ia).next_back()?;
        (ia < s + len).then(|| (pa + (ia - s), prot))
    }

    /// Remove what `[ia, ia + size)` covers, in address order, stopping
    /// after `budget` bytes; returns the bytes removed.
    fn unmap(&mut self, ia: u64, size: u64, budget: u64) -> u64 {
        let end = ia + size;
        let mut removed = 0;
        let first = self
            .0
            .range(..=ia)
            .next_back()
            .filter(|(&s, &(len, _, _))| s + len > ia)
            .map_or(ia, |(&s, _)| s);
        let hits: Vec<u64> = self.0.range(first..end).map(|(&s, _)| s).collect();
        for s in hits {
            if removed == budget {
                break;
            }
            let Some((len, pa, prot)) = self.0.remove(&s) else {
                continue;
            };
            let lo = s.max(ia);
            let hi = (s + len).min(end).min(lo.saturating_add(budget - removed));
            removed += hi - lo;
            if s < lo {
                self.0.insert(s, (lo - s, pa, prot));
            }
            if hi < s + len {
                self.0.insert(hi, (s + len - hi, pa + (hi - s), prot));
            }
        }
        removed
    }

    /// Every address whose translation says something about the model:
    /// both ends of each mapping and the addresses just outside them.
    fn probes(&self, g: u64) -> Vec<u64> {
        let mut v = Vec::new();
        for (&s, &(len, _, _)) in &self.0 {
            v.extend([s, s + len - g, s + len - 1, s + len]);
            if s >= g {
                v.push(s - 1);
            }
        }
        v
    }
}

/// Protection from one byte; never without both read and write.
fn prot_of(bits: u8) -> Prot {
    let flags = [
        Prot::READ,
        Prot::WRITE,
        Prot::CACHE,
        Prot::MMIO,
        Prot::NOEXEC,
        Prot::PRIV,
    ];
    let mut p = Prot::empty();
    for (i, f) in flags.iter().enumerate() {
        if bits & (1 << i) != 0 {
            p = p | *f;
        }
    }
    // Bit 6 keeps a no-access prot, so `NoAccess` is reached too.
    if bits & 0x40 == 0 && !p.contains(Prot::READ) && !p.contains(Prot::WRITE) {
        p = p | Prot::READ;
    }
    p
}

/// The leaf descriptor mapping `ia`, with its level (a walk written here
/// from the format's geometry, independent of the engine's own walks).
fn leaf<F: LpaeFormat, P: TablePool>(pool: &P, root: u64, ia: u64) -> Option<(u64, u32)> {
    let mut table = root;
    let mut level = Geometry::<F>::START;
    loop {
        let idx = Geometry::<F>::index(level, ia);
        // SAFETY: `table` is the root or a table descriptor's address read
        // from the pool's own tables, and `idx` is below the entries of a
        // table at `level`; nothing else touches the pool meanwhile.
        let d =
            unsafe { (*pool.entries(table).add(idx)).load(core::sync::atomic::Ordering::Relaxed) };
        if d & 1 == 0 {
            return None;
        }
        if !is_table(d, level) {
            return Some((d, level));
        }
        table = iommugen_runtime::pgtable::desc::decode_addr::<F>(d);
        level += 1;
        if level > 3 {
            return None;
        }
    }
}

/// A copy of the pool's table memory.
fn snapshot<T: TableMem, const N: usize>(pool: &StaticPool<T, N>) -> Vec<u8> {
    let (ptr, len) = pool.memory();
    // SAFETY: `memory` names the pool's own `len` bytes, alive as long as the
    // pool; single-threaded here, so no store races the read.
    let mut copy = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
    // A slot given back dirty is zero to whoever gets it next.
    let slot = 1usize << T::SHIFT;
    for (i, table) in copy.chunks_mut(slot).enumerate() {
        if pool.is_dirty(pool.phys_base() + (i * slot) as u64) {
            table.fill(0);
        }
    }
    copy
}

fn run<F: LpaeFormat, T: TableMem, const N: usize>(input: &mut Bytes<'_>) {
    let pool: Box<StaticPool<T, N>> = Box::default();
    pool.set_phys_base(POOL_PA);
    let g = 1u64 << F::GRANULE_SHIFT;
    let big = 1u64 << (63 - F::PAGE_SIZES.leading_zeros());
    let mid_bits = F::PAGE_SIZES & !(g | big);
    let mid = if mid_bits == 0 {
        g
    } else {
        1u64 << mid_bits.trailing_zeros()
    };
    let units = [g, mid, big];
    // Four of the largest blocks at the top of the input range (last root
    // index, last concatenated table); outputs near the top of the OAS.
    let window = 4 * big;
    let wbase = (1u64 << F::IAS) - window;
    let pbase = (1u64 << F::OAS) - 2 * window;
    let roots = 1usize << Geometry::<F>::ROOT_ORDER;

    let Ok(mut pt) = PageTable::<F, _, _>::new(&*pool, NoTlb) else {
        panic!("a fresh pool of {N} tables cannot hold the root");
    };
    let mut model = Model::default();
    for _ in 0..64 {
        if input.0.is_empty() {
            break;
        }
        let op = input.u8();
        let unit = units[usize::from(op >> 2 & 3) % 3];
        let raw = op >> 2 & 3 == 3;
        let excl = op & 0x10 != 0;
        // Raw values reach the error paths; bit 5 aligns them to the granule.
        let align = if op & 0x20 != 0 { !(g - 1) } else { u64::MAX };
        let (ia, size) = if raw {
            (input.u64() & align, input.u64() & align)
        } else {
            let ia = wbase + (u64::from(input.u16()) * unit) % window;
            let size = (u64::from(input.u8() % 8) * unit).min(wbase + window - ia);
            (ia, size)
        };
        match op & 3 {
            0 | 1 => {
                let pa = if raw {
                    input.u64() & align
                } else {
                    let shift = input.u8();
                    pbase
                        + (ia - wbase)
                        + if shift & 1 == 0 {
                            0
                        } else {
                            g * u64::from(shift >> 1)
                        }
                };
                let prot = prot_of(input.u8());
                let expect = expected_map_error::<F>(&model, ia, pa, size, prot);
                let before = snapshot(&pool);
                let in_use = pool.in_use();
                let got = if excl {
                    pt.map_mut(ia, pa, size, prot)
                } else {
                    pt.map(ia, pa, size, prot)
                };
                match (got, expect) {
                    (Ok(()), None) => {
                        model.0.insert(ia, (size, pa, prot));
                    }
                    (Err(e), Some(want)) if e == want => {}
                    (Err(MapError::NoMemory), None | Some(MapError::Overlap)) => {}
                    (got, want) => {
                        panic!("map {ia:#x}+{size:#x} -> {pa:#x} {prot:?}: {got:?}, model {want:?}")
                    }
                }
                if got.is_err() {
                    assert!(before == snapshot(&pool), "failed map changed table memory");
                    assert_eq!(pool.in_use(), in_use, "failed map kept tables");
                }
            }
            2 => {
                let got = if excl {
                    pt.unmap_mut(ia, size)
                } else {
                    pt.unmap(ia, size)
                };
                let in_range = ia.checked_add(size).is_some_and(|e| e <= 1 << F::IAS);
                let aligned = size != 0 && (ia | size) & (g - 1) == 0;
                let want = if in_range && aligned {
                    model.unmap(ia, size, got)
                } else {
                    0
                };
                // Less than the model holds only when a split ran out of
                // tables; the probes below hold the engine to what is left.
                assert_eq!(
                    got, want,
                    "unmap {ia:#x}+{size:#x} returned more than was mapped"
                );
            }
            _ => {
                let probe = ia.wrapping_add(u64::from(input.u16()));
                check_one::<F, _>(&*pool, &pt, &model, probe);
                check_walker::<F, T, N>(&pool, pt.root(), &model, probe);
            }
        }
        for probe in model.probes(g) {
            check_one::<F, _>(&*pool, &pt, &model, probe);
            check_walker::<F, T, N>(&pool, pt.root(), &model, probe);
        }
    }
    let top = 1u64 << F::IAS;
    let all = model.unmap(0, top, u64::MAX);
    assert_eq!(pt.unmap_mut(0, top), all, "unmapping everything");
    assert_eq!(
        pool.in_use(),
        roots,
        "tables left after unmapping everything"
    );
    drop(pt);
    assert_eq!(pool.in_use(), 0, "root not given back");
}

/// What the engine must answer for a map, given the model (`None`: success
/// or `NoMemory`).
fn expected_map_error<F: LpaeFormat>(
    model: &Model,
    ia: u64,
    pa: u64,
    size: u64,
    prot: Prot,
) -> Option<MapError> {
    let g = 1u64 << F::GRANULE_SHIFT;
    if size == 0 {
        return Some(MapError::Empty);
    }
    if (ia | pa | size) & (g - 1) != 0 {
        return Some(MapError::Misaligned);
    }
    if !prot.contains(Prot::READ) && !prot.contains(Prot::WRITE) {
        return Some(MapError::NoAccess);
    }
    if ia.checked_add(size).is_none_or(|e| e > 1 << F::IAS) {
        return Some(MapError::IovaOutOfRange);
    }
    if pa.checked_add(size).is_none_or(|e| e > 1 << F::OAS) {
        return Some(MapError::PaddrOutOfRange);
    }
    model.overlaps(ia, size).then_some(MapError::Overlap)
}

/// One address through the reference walker (`iommugen_runtime::refwalk`,
/// written from the Arm ARM and sharing no code with the engine) reading the
/// pool's raw memory: it translates as the model says, with the model's
/// permissions.
fn check_walker<F: LpaeFormat, T: TableMem, const N: usize>(
    pool: &StaticPool<T, N>,
    root: u64,
    model: &Model,
    ia: u64,
) {
    let cfg = WalkConfig::new(
        matches!(F::STAGE, Stage::Two),
        1 << F::GRANULE_SHIFT,
        F::IAS,
        F::OAS,
    );
    let (ptr, len) = pool.memory();
    let base = pool.phys_base();
    let read = |pa: u64| -> u64 {
        let off = pa.checked_sub(base).expect("walker left the pool") as usize;
        assert!(
            off + 8 <= len && off % 8 == 0,
            "walker read {pa:#x} outside the pool"
        );
        // SAFETY: `off` is an aligned 8-byte offset inside the pool's own
        // `len` bytes (checked above), alive as long as `pool`; no store
        // races the read (single-threaded).
        unsafe { core::ptr::read_volatile(ptr.add(off).cast::<u64>()) }
    };
    match (walk(&cfg, root, ia, &read), model.lookup(ia)) {
        (Ok(t), Some((pa, prot))) => {
            assert_eq!(t.pa, pa, "walker PA for {ia:#x}");
            // Stage 1 cannot deny read (write-only maps read-write).
            let read = prot.contains(Prot::READ) || matches!(F::STAGE, Stage::One);
            assert_eq!(t.attrs.read, read, "walker read permission at {ia:#x}");
            let write = prot.contains(Prot::WRITE);
            assert_eq!(t.attrs.write, write, "walker write permission at {ia:#x}");
        }
        (Err(_), None) => {}
        (got, want) => panic!("walker at {ia:#x}: {got:?}, model {want:?}"),
    }
}

/// One address: the engine's lookup and the leaf descriptor match the model.
fn check_one<F: LpaeFormat, P: TablePool>(
    pool: &P,
    pt: &PageTable<F, &P, NoTlb>,
    model: &Model,
    ia: u64,
) {
    if ia >= 1 << F::IAS {
        assert_eq!(
            pt.iova_to_phys(ia),
            None,
            "lookup beyond the IAS at {ia:#x}"
        );
        return;
    }
    let want = model.lookup(ia);
    assert_eq!(
        pt.iova_to_phys(ia),
        want.map(|(pa, _)| pa),
        "lookup {ia:#x}"
    );
    let got = leaf::<F, P>(pool, pt.root(), ia);
    match (got, want) {
        (None, None) => {}
        (Some((d, level)), Some((pa, prot))) => {
            let block = 1u64 << Geometry::<F>::shift(level);
            let expect =
                encode_addr::<F>(pa & !(block - 1)) | leaf_attrs::<F>(prot) | leaf_type(level);
            assert_eq!(d, expect, "descriptor for {ia:#x} at level {level}");
        }
        (got, want) => panic!("walk at {ia:#x}: {got:?}, model {want:?}"),
    }
}

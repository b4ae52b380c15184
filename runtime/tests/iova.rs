//! The IOVA allocator and the domain's map/unmap over the recording page
//! table: never outside the window, no overlap, space comes back on free.

use iommugen_runtime::domain::{Domain, PtCall, RecordingPageTable};
use iommugen_runtime::iova::{storage_words, IovaAllocator, IovaError};
use iommugen_runtime::Prot;

const G: u64 = 4096;

/// `n` iterations, or `n / 500` under Miri (about a thousand times slower),
/// so this file fits its CI step; every check stays the same.
const fn rounds(n: usize) -> usize {
    if cfg!(miri) {
        n / 500
    } else {
        n
    }
}

/// Zeroed storage for a window of `size` bytes of 4K pages.
fn store(size: u64) -> Vec<u64> {
    vec![0; storage_words(size, 12)]
}

#[test]
fn allocations_are_aligned_inside_the_window_and_disjoint() {
    // Window [1 MiB, 1 MiB + 64 KiB): sixteen 4 KiB pages.
    let mut st = store(0x1_0000);
    let mut a = IovaAllocator::new(&mut st, 0x10_0000, 0x1_0000, 12).unwrap();
    let mut got = Vec::new();
    for _ in 0..16 {
        got.push(a.alloc(G, u64::MAX).unwrap());
    }
    assert_eq!(a.alloc(G, u64::MAX), Err(IovaError::Exhausted));
    got.sort();
    let want: Vec<u64> = (0..16).map(|i| 0x10_0000 + i * G).collect();
    assert_eq!(got, want);
}

#[test]
fn sizes_round_to_power_of_two_blocks_aligned_to_their_size() {
    let mut st = store(1 << 32);
    let mut a = IovaAllocator::new(&mut st, 0, 1 << 32, 12).unwrap();
    // 12 KiB rounds to a 16 KiB block, top-down from 4 GiB.
    assert_eq!(a.alloc(3 * G, u64::MAX), Ok((1 << 32) - 4 * G));
    // The next 4 KiB goes right below.
    assert_eq!(a.alloc(G, u64::MAX), Ok((1 << 32) - 5 * G));
    // A 64 KiB block must be 64 KiB-aligned: the gap pages above it stay
    // free and are reused by the next small allocations.
    let big = a.alloc(16 * G, u64::MAX).unwrap();
    assert_eq!(big, (1 << 32) - 32 * G);
    assert_eq!(a.alloc(G, u64::MAX), Ok((1 << 32) - 6 * G));
}

#[test]
fn limit_keeps_allocations_below_a_device_mask() {
    // A 16 GiB window (a whole 40-bit one would need 128 MiB of storage).
    let mut st = store(1 << 34);
    let mut a = IovaAllocator::new(&mut st, 0, 1 << 34, 12).unwrap();
    let high = a.alloc(G, u64::MAX).unwrap();
    assert_eq!(high, (1 << 34) - G);
    // A 32-bit device: its IOVA ends at or below 0xffff_ffff.
    let low = a.alloc(2 * G, 0xffff_ffff).unwrap();
    assert_eq!(low, (1 << 32) - 2 * G);
    // And the space between stays usable for unlimited devices.
    let mid = a.alloc(G, u64::MAX).unwrap();
    assert!(mid > low && mid < high);
}

#[test]
fn address_zero_is_never_handed_out() {
    let mut st = store(4 * G);
    let mut a = IovaAllocator::new(&mut st, 0, 4 * G, 12).unwrap();
    let mut got = vec![];
    while let Ok(x) = a.alloc(G, u64::MAX) {
        got.push(x);
    }
    got.sort();
    assert_eq!(got, vec![G, 2 * G, 3 * G]);
}

#[test]
fn free_returns_space_and_merges_buddies() {
    let mut st = store(0x10_0000);
    let mut a = IovaAllocator::new(&mut st, 0x10_0000, 0x10_0000, 12).unwrap();
    let blocks: Vec<u64> = (0..256).map(|_| a.alloc(G, u64::MAX).unwrap()).collect();
    assert_eq!(a.alloc(G, u64::MAX), Err(IovaError::Exhausted));
    for &b in blocks.iter().rev() {
        a.free(b, G).unwrap();
    }
    // Everything merged back: the whole 1 MiB is one block again.
    assert_eq!(a.alloc(0x10_0000, u64::MAX), Ok(0x10_0000));
}

#[test]
fn bad_frees_are_rejected() {
    let mut st = store(1 << 32);
    let mut a = IovaAllocator::new(&mut st, 0, 1 << 32, 12).unwrap();
    let x = a.alloc(G, u64::MAX).unwrap();
    assert_eq!(a.free(x + 1, G), Err(IovaError::BadFree));
    assert_eq!(a.free(0x1000, G), Err(IovaError::BadFree));
    a.free(x, G).unwrap();
    let y = a.alloc(G, u64::MAX).unwrap();
    let z = a.alloc(G, u64::MAX).unwrap();
    a.free(z, G).unwrap();
    assert_eq!(a.free(z, G), Err(IovaError::BadFree));
    assert_ne!(y, z);
    // Freed with another size than it was allocated with: the 16 KiB
    // block is neither four pages nor part of a 32 KiB one.
    let w = a.alloc(4 * G, u64::MAX).unwrap();
    assert_eq!(a.free(w, G), Err(IovaError::BadFree));
    assert_eq!(a.free(w, 8 * G), Err(IovaError::BadFree));
    assert_eq!(a.free(w + G, G), Err(IovaError::BadFree));
    a.free(w, 4 * G).unwrap();
    // Outside the window, or sizes no order holds.
    assert_eq!(a.free(1 << 32, G), Err(IovaError::BadFree));
    assert_eq!(a.free(y, 0), Err(IovaError::BadSize));
}

#[test]
fn random_sequences_stay_in_window_and_never_overlap() {
    let (base, size) = (0x4000_0000u64, 0x100_0000u64);
    let mut st = store(size);
    let mut a = IovaAllocator::new(&mut st, base, size, 12).unwrap();
    let mut live: Vec<(u64, u64)> = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..rounds(50_000) {
        if rng() % 3 != 0 || live.is_empty() {
            let pages = 1 + rng() % 40;
            let limit = if rng() % 4 == 0 {
                base + size / 2 - 1
            } else {
                u64::MAX
            };
            if let Ok(at) = a.alloc(pages * G, limit) {
                let block = (pages * G).next_power_of_two();
                assert!(at >= base && at + block <= base + size, "{at:#x}");
                assert!(at + block - 1 <= limit);
                assert_eq!(at % block, 0);
                assert!(live.iter().all(|&(s, l)| at + block <= s || s + l <= at));
                live.push((at, block));
            }
        } else {
            let i = (rng() as usize) % live.len();
            let (at, block) = live.swap_remove(i);
            a.free(at, block).unwrap();
        }
    }
    for (at, block) in live.drain(..) {
        a.free(at, block).unwrap();
    }
    // With nothing live, the whole window is one free block again.
    assert_eq!(a.free_bytes(), u128::from(size));
    assert_eq!(a.alloc(size, u64::MAX), Ok(base));
}

#[test]
fn domain_maps_through_the_page_table_boundary() {
    let pt = RecordingPageTable::<8>::new();
    let mut st = store(1 << 32);
    let mut d = Domain::new(pt, &mut st, 0, 1 << 32, 12).unwrap();
    // A 6000-byte buffer at phys 0x8000_0123 spans two pages.
    let iova = d
        .map(0x8000_0123, 6000, Prot::READ | Prot::WRITE, u64::MAX)
        .unwrap();
    assert_eq!(iova & 0xfff, 0x123);
    assert_eq!(
        d.table.last,
        Some(PtCall::Map {
            iova: iova & !0xfff,
            phys: 0x8000_0000,
            size: 2 * G,
            prot: Prot::READ | Prot::WRITE
        })
    );
    use iommugen_runtime::domain::PageTableOps;
    assert_eq!(d.table.iova_to_phys(iova), Some(0x8000_0123));
    d.unmap(iova, 6000).unwrap();
    assert_eq!(d.table.mappings().len(), 0);
}

#[test]
fn device_windows_inside_a_shared_domain_are_respected() {
    // One domain shared by devices whose DMA windows differ: every block
    // must lie inside the asking device's [lowest, limit].
    let (base, size) = (0u64, 1u64 << 32);
    let windows = [
        (0, u64::MAX),
        (0x4000_0000, 0x7fff_ffff),
        (0x8000_0000, 0xffff_ffff),
        (0x2c1c_0000, 0x3fff_ffff),
    ];
    let mut st = store(size);
    let mut a = IovaAllocator::new(&mut st, base, size, 12).unwrap();
    let mut live: Vec<(u64, u64)> = Vec::new();
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..rounds(40_000) {
        if rng() % 3 != 0 || live.is_empty() {
            let (lo, hi) = windows[(rng() % 4) as usize];
            let pages = 1 + rng() % 64;
            if let Ok(at) = a.alloc_range(pages * G, lo, hi) {
                let block = (pages * G).next_power_of_two();
                assert!(
                    at >= lo && at + block - 1 <= hi,
                    "{at:#x} outside {lo:#x}..={hi:#x}"
                );
                assert!(live.iter().all(|&(s, l)| at + block <= s || s + l <= at));
                live.push((at, block));
            }
        } else {
            let (at, block) = live.swap_remove((rng() as usize) % live.len());
            a.free(at, block).unwrap();
        }
    }
}

#[test]
fn storage_words_counts_bitmaps_and_summaries() {
    // 64 pages: orders 0..=6. A window of 64 pages touches at most
    // (63 >> o) + 2 blocks of order o: 65, 33, 17, 9, 5, 3, 2. Free
    // bitmaps: 65 bits = 2 words + 1 summary word; the others 1 word each
    // (6). Allocated bitmaps: 2 + 6 * 1. Total 3 + 6 + 8 = 17.
    assert_eq!(storage_words(64 * G, 12), 17);
    // One page: order 0 only, at most 2 blocks: 1 free word + 1 allocated.
    assert_eq!(storage_words(G, 12), 2);
    assert_eq!(storage_words(G - 1, 12), 0);
    // That is the bound for any placement; a 64-page window aligned to
    // 256 KiB touches exactly 64 >> o blocks of order o, one word each for
    // the free and the allocated bitmap: 7 * 2 = 14 words. Fewer is an
    // error, not a panic.
    let mut st = vec![0; 13];
    assert_eq!(
        IovaAllocator::new(&mut st, 0x10_0000, 64 * G, 12).err(),
        Some(IovaError::StorageTooSmall)
    );
    let mut st = vec![0; 14];
    assert!(IovaAllocator::new(&mut st, 0x10_0000, 64 * G, 12).is_ok());
    // The largest window there is, in the smallest pages: an error too.
    assert_eq!(
        IovaAllocator::new(&mut st, 0, u64::MAX, 9).err(),
        Some(IovaError::StorageTooSmall)
    );
    let capped = IovaAllocator::new_capped(&mut st, 0, u64::MAX, 9).unwrap();
    assert!(capped.window().1 <= 1 << 32);
}

#[test]
fn a_huge_window_is_capped_to_what_the_storage_affords() {
    use iommugen_runtime::iova::{DEFAULT_WINDOW, DEFAULT_WORDS};
    // A 48-bit aperture from one page up: the default storage manages
    // the top 1 GiB below 4 GiB, where 32-bit devices reach too.
    let mut st = vec![0; DEFAULT_WORDS];
    let mut a = IovaAllocator::new_capped(&mut st, G, (1 << 48) - G, 12).unwrap();
    assert_eq!(a.window(), ((1 << 32) - DEFAULT_WINDOW, 1 << 32));
    assert_eq!(a.alloc(G, u64::MAX), Ok((1 << 32) - G));
    // A window wholly above 4 GiB: its top part.
    let mut st = vec![0; DEFAULT_WORDS];
    let a = IovaAllocator::new_capped(&mut st, 1 << 40, 1 << 40, 12).unwrap();
    assert_eq!(a.window(), ((1 << 41) - DEFAULT_WINDOW, 1 << 41));
    // A window the storage affords whole is not capped.
    let mut st = vec![0; DEFAULT_WORDS];
    let a = IovaAllocator::new_capped(&mut st, 0x10_0000, 0x10_0000, 12).unwrap();
    assert_eq!(a.window(), (0x10_0000, 0x20_0000));
}

#[test]
fn a_window_reaching_two_to_the_64_works() {
    let base = 0u64.wrapping_sub(0x10_0000);
    let mut st = store(0x10_0000);
    let mut a = IovaAllocator::new(&mut st, base, 0x10_0000, 12).unwrap();
    assert_eq!(a.window(), (base, 1u128 << 64));
    assert_eq!(a.alloc(G, u64::MAX), Ok(u64::MAX - G + 1));
    let big = a.alloc(0x8_0000, u64::MAX).unwrap();
    assert_eq!(big, base);
    a.free(big, 0x8_0000).unwrap();
    a.free(u64::MAX - G + 1, G).unwrap();
    assert_eq!(a.alloc(0x10_0000, u64::MAX), Ok(base));
    // A window running past 2^64 ends there; freeing back up to its top
    // must not wrap.
    let mut st = store(0x10_0000);
    let mut a = IovaAllocator::new(&mut st, base, 0x20_0000, 12).unwrap();
    assert_eq!(a.window(), (base, 1u128 << 64));
    let x = a.alloc(G, u64::MAX).unwrap();
    assert_eq!(x, u64::MAX - G + 1);
    a.free(x, G).unwrap();
    assert_eq!(a.alloc(0x10_0000, u64::MAX), Ok(base));
}

/// xorshift64: deterministic pseudo-random numbers for the churn test.
fn rng(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Allocate a block of `G << (r % 5)` bytes and check it against the live
/// set: inside `[base, base + size)`, aligned, overlapping nothing.
fn alloc_checked(
    a: &mut IovaAllocator<'_>,
    r: u64,
    (base, size): (u64, u64),
    taken: &mut std::collections::BTreeMap<u64, u64>,
) -> (u64, u64) {
    let block = G << (r % 5);
    let at = a.alloc(block, u64::MAX).unwrap();
    assert!(at >= base && at + block <= base + size && at % block == 0);
    if let Some((&s, &l)) = taken.range(..=at).next_back() {
        assert!(s + l <= at, "{at:#x} overlaps {s:#x}+{l:#x}");
    }
    if let Some((&s, _)) = taken.range(at..).next() {
        assert!(at + block <= s, "{at:#x} overlaps {s:#x}");
    }
    taken.insert(at, block);
    (at, block)
}

#[test]
fn churn_with_ten_thousand_blocks_outstanding_loses_nothing() {
    // 1 GiB window, 10,000 live blocks of 1 to 16 pages (about 60,000 of
    // its 262,144 pages), then 200,000 frees and allocations among them.
    let (base, size) = (1u64 << 30, 1u64 << 30);
    let mut st = store(size);
    let mut a = IovaAllocator::new(&mut st, base, size, 12).unwrap();
    let mut next = rng(0x2545_f491_4f6c_dd1d);
    let mut taken = std::collections::BTreeMap::new();
    let mut live: Vec<(u64, u64)> = (0..rounds(10_000))
        .map(|_| alloc_checked(&mut a, next(), (base, size), &mut taken))
        .collect();
    for _ in 0..rounds(200_000) {
        let (at, block) = live.swap_remove((next() as usize) % live.len());
        a.free(at, block).unwrap();
        taken.remove(&at);
        live.push(alloc_checked(&mut a, next(), (base, size), &mut taken));
    }
    let used: u64 = live.iter().map(|&(_, l)| l).sum();
    assert_eq!(a.free_bytes(), u128::from(size - used));
    for (at, block) in live.drain(..) {
        a.free(at, block).unwrap();
    }
    assert_eq!(a.free_bytes(), u128::from(size));
    assert_eq!(a.alloc(size, u64::MAX), Ok(base));
}

mod model {
    //! Random alloc/free sequences against a plain model: a BTreeMap of
    //! the live blocks. A buddy allocator that merges every free pair
    //! finds an aligned block whenever one is wholly free, and top-down
    //! placement takes the highest, so the model predicts every answer:
    //! the highest `want`-aligned block inside the window and the device's
    //! `[lowest, limit]` that overlaps no live block, or `Exhausted`.

    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug)]
    enum Op {
        /// Pages (rounded up to a power of two), and a device range as
        /// fractions of the window: lowest and limit in 1/8ths.
        Alloc { pages: u64, lo8: u64, hi8: u64 },
        /// Free the live block at this index (modulo the live count).
        Free(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (1u64..40, 0u64..8, 0u64..9).prop_map(|(pages, lo8, hi8)| Op::Alloc { pages, lo8, hi8 }),
            2 => any::<usize>().prop_map(Op::Free),
        ]
    }

    fn overlaps(live: &BTreeMap<u64, u64>, at: u64, len: u64) -> bool {
        live.range(..at + len)
            .next_back()
            .is_some_and(|(&s, &l)| s + l > at)
    }

    /// The model's answer: highest free aligned block in range.
    fn expected(
        live: &BTreeMap<u64, u64>,
        lo: u64,
        hi: u64,
        want: u64,
        floor: u64,
        end: u64,
    ) -> Option<u64> {
        let (floor, end) = (floor.max(lo), end.min(hi));
        let mut at = end.checked_sub(want)? & !(want - 1);
        while at >= floor {
            if !overlaps(live, at, want) {
                return Some(at);
            }
            at = at.checked_sub(want)?;
        }
        None
    }

    proptest! {
        // PROPTEST_CASES=n for a deeper run.
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
        ))]
        #[test]
        fn matches_the_model_and_loses_nothing(
            base_pages in prop_oneof![Just(0u64), 1u64..1000],
            pages in 1u64..700,
            ops in proptest::collection::vec(op(), 1..300),
        ) {
            let (base, size) = (base_pages * G, pages * G);
            let mut st = store(size);
            let mut a = IovaAllocator::new(&mut st, base, size, 12);
            // Page 0 is never handed out: a window of just page 0 is empty.
            let lo = base.max(G);
            let hi = base + size;
            if hi <= lo {
                prop_assert_eq!(a.err(), Some(IovaError::BadWindow));
                return Ok(());
            }
            let a = a.as_mut().unwrap();
            prop_assert_eq!(a.window(), (lo, u128::from(hi)));
            let mut live: BTreeMap<u64, u64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Alloc { pages, lo8, hi8 } => {
                        let want = pages.next_power_of_two() * G;
                        let lowest = base + size / 8 * lo8;
                        let limit = (base + size / 8 * hi8).saturating_sub(1);
                        let got = a.alloc_range(want, lowest, limit);
                        let model = expected(&live, lo, hi, want, lowest, limit + 1);
                        prop_assert_eq!(got.ok(), model, "alloc {:#x} in {:#x}..={:#x}", want, lowest, limit);
                        if let Some(at) = model {
                            prop_assert!(at >= lo && at + want <= hi && at % want == 0);
                            live.insert(at, want);
                        } else {
                            prop_assert_eq!(got, Err(IovaError::Exhausted));
                        }
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let (&at, &len) = live.iter().nth(i % live.len()).unwrap();
                        live.remove(&at);
                        prop_assert_eq!(a.free(at, len), Ok(()));
                        // A second free of the same block is an error.
                        prop_assert_eq!(a.free(at, len), Err(IovaError::BadFree));
                    }
                    Op::Free(_) => {}
                }
                let used: u64 = live.values().sum();
                prop_assert_eq!(a.free_bytes(), u128::from(hi - lo - used));
            }
            for (at, len) in std::mem::take(&mut live) {
                prop_assert_eq!(a.free(at, len), Ok(()));
            }
            // Nothing lost: every aligned block of the window is whole
            // again; in particular the largest one the window holds.
            prop_assert_eq!(a.free_bytes(), u128::from(hi - lo));
            let mut want = G;
            while want * 2 <= hi - lo {
                want *= 2;
            }
            let model = expected(&live, lo, hi, want, lo, hi);
            prop_assert_eq!(a.alloc(want, u64::MAX).ok(), model);
            if lo.is_power_of_two() && hi - lo == lo {
                // A window that is one aligned block comes back whole.
                prop_assert_eq!(model, Some(lo));
            }
        }
    }
}

mod hostile {
    //! Arbitrary arguments everywhere: errors, never panics, and whatever
    //! is handed out lies inside the window and the asked range.

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_arguments_never_panic(
            base in any::<u64>(),
            size in any::<u64>(),
            shift in prop_oneof![1 => 0u32..70, 4 => 9u32..=30],
            words in 0usize..4096,
            calls in proptest::collection::vec((any::<u64>(), any::<u64>(), any::<u64>(), any::<bool>()), 0..64),
        ) {
            let mut st = vec![0; words];
            let Ok(mut a) = IovaAllocator::new_capped(&mut st, base, size, shift) else {
                return Ok(());
            };
            let (lo, hi) = a.window();
            let mut live = Vec::new();
            for (x, y, z, free) in calls {
                if free {
                    // Only a live block's address can be freed (with any
                    // size of the same power-of-two block).
                    if a.free(x, y).is_ok() {
                        prop_assert!(live.iter().any(|&(at, _)| at == x));
                        live.retain(|&(at, _)| at != x);
                    }
                    // Sometimes free a live block with its own size.
                    if let Some(&(at, len)) = live.get((z as usize) % live.len().max(1)) {
                        prop_assert_eq!(a.free(at, len), Ok(()));
                        live.retain(|&b| b != (at, len));
                    }
                } else {
                    // Sizes up to a few pages mostly, so some succeed.
                    let want = if z & 1 == 0 { x % (64 << shift.min(30)) } else { x };
                    if let Ok(at) = a.alloc_range(want, y.min(z), y.max(z)) {
                        let block = want.max(1).next_power_of_two();
                        prop_assert!(at >= lo && u128::from(at) + u128::from(block) <= hi);
                        prop_assert!(at >= y.min(z) && at + (block - 1) <= y.max(z));
                        live.push((at, want));
                    }
                }
            }
        }
    }
}

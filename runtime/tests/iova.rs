//! The IOVA allocator and the domain's map/unmap over the recording page
//! table: never outside the window, no overlap, space comes back on free.

use iommugen_runtime::domain::{Domain, PtCall, RecordingPageTable};
use iommugen_runtime::iova::{IovaAllocator, IovaError};
use iommugen_runtime::Prot;

const G: u64 = 4096;

#[test]
fn allocations_are_aligned_inside_the_window_and_disjoint() {
    // Window [1 MiB, 1 MiB + 64 KiB): sixteen 4 KiB pages.
    let mut a = IovaAllocator::<16>::new(0x10_0000, 0x1_0000, 12).unwrap();
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
    let mut a = IovaAllocator::<16>::new(0, 1 << 32, 12).unwrap();
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
    let mut a = IovaAllocator::<16>::new(0, 1 << 40, 12).unwrap();
    let high = a.alloc(G, u64::MAX).unwrap();
    assert_eq!(high, (1 << 40) - G);
    // A 32-bit device: its IOVA ends at or below 0xffff_ffff.
    let low = a.alloc(2 * G, 0xffff_ffff).unwrap();
    assert_eq!(low, (1 << 32) - 2 * G);
    // And the space between stays usable for unlimited devices.
    let mid = a.alloc(G, u64::MAX).unwrap();
    assert!(mid > low && mid < high);
}

#[test]
fn address_zero_is_never_handed_out() {
    let mut a = IovaAllocator::<16>::new(0, 4 * G, 12).unwrap();
    let mut got = vec![];
    while let Ok(x) = a.alloc(G, u64::MAX) {
        got.push(x);
    }
    got.sort();
    assert_eq!(got, vec![G, 2 * G, 3 * G]);
}

#[test]
fn free_returns_space_and_merges_buddies() {
    let mut a = IovaAllocator::<16>::new(0x10_0000, 0x10_0000, 12).unwrap();
    let blocks: Vec<u64> = (0..256).map(|_| a.alloc(G, u64::MAX).unwrap()).collect();
    assert_eq!(a.alloc(G, u64::MAX), Err(IovaError::Exhausted));
    for &b in blocks.iter().rev() {
        a.free(b, G).unwrap();
    }
    // Everything merged back: the whole 1 MiB is one block again.
    assert_eq!(a.alloc(0x10_0000, u64::MAX), Ok(0x10_0000));
    assert_eq!(a.lost(), 0);
}

#[test]
fn bad_frees_are_rejected() {
    let mut a = IovaAllocator::<16>::new(0, 1 << 32, 12).unwrap();
    let x = a.alloc(G, u64::MAX).unwrap();
    assert_eq!(a.free(x + 1, G), Err(IovaError::BadFree));
    assert_eq!(a.free(0x1000, G), Err(IovaError::BadFree));
    a.free(x, G).unwrap();
    let y = a.alloc(G, u64::MAX).unwrap();
    let z = a.alloc(G, u64::MAX).unwrap();
    a.free(z, G).unwrap();
    assert_eq!(a.free(z, G), Err(IovaError::BadFree));
    assert_ne!(y, z);
}

#[test]
fn random_sequences_stay_in_window_and_never_overlap() {
    let (base, size) = (0x4000_0000u64, 0x100_0000u64);
    let mut a = IovaAllocator::<64>::new(base, size, 12).unwrap();
    let mut live: Vec<(u64, u64)> = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..50_000 {
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
    // With nothing live, the whole window is one free block again unless
    // the free stacks overflowed.
    if a.lost() == 0 {
        assert_eq!(a.alloc(size, u64::MAX), Ok(base));
    }
}

#[test]
fn domain_maps_through_the_page_table_boundary() {
    let pt = RecordingPageTable::<8>::new();
    let mut d: Domain<_, 16> = Domain::new(pt, 0, 1 << 32, 12).unwrap();
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
    let mut a = IovaAllocator::<64>::new(base, size, 12).unwrap();
    let mut live: Vec<(u64, u64)> = Vec::new();
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..40_000 {
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

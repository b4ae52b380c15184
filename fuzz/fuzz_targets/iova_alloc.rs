//! Alloc / free sequences decoded from fuzzer bytes against the IOVA
//! allocator, checked against an exact model (the contract of
//! `runtime/tests/iova.rs`'s model test): a buddy allocator that merges
//! every free pair, placing top-down, hands out the highest block of the
//! request's power-of-two size, aligned to it, inside the window and the
//! device's `[lowest, limit]`, that overlaps no live block; `Exhausted`
//! when there is none. A free succeeds exactly for a live block with its
//! own size, and free space is always the window less the live blocks.
#![no_main]

use std::collections::BTreeMap;

use iommugen_runtime::iova::{storage_words, IovaAllocator, IovaError, ORDERS};
use libfuzzer_sys::fuzz_target;

/// Largest storage a case gets; bigger windows are capped to it, as a
/// domain's are (`iova::capped_window`). About 4 bits per page: ~16K pages.
const MAX_WORDS: usize = 1 << 10;

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let shift = 9 + u32::from(input.u8() % 22);
    let g = 1u64 << shift;
    let base = match input.u8() % 4 {
        0 => 0,
        1 => u64::from(input.u16()) * g,
        2 => u64::MAX - u64::from(input.u16()) * g,
        _ => input.u64(),
    };
    let size = match input.u8() % 3 {
        0 => u64::from(input.u16()) * g,
        1 => u64::from(input.u16()),
        _ => input.u64(),
    };
    let words = storage_words(size, shift).min(MAX_WORDS);
    let mut storage = vec![u64::MAX; words];
    let Ok(mut a) = IovaAllocator::new_capped(&mut storage, base, size, shift) else {
        return;
    };
    let (lo, top) = a.window();
    let (lo, top) = (u128::from(lo), top);
    assert!(
        lo >= u128::from(g) && lo < top && top <= 1 << 64,
        "window {lo:#x}..{top:#x}"
    );
    assert_eq!(lo % u128::from(g), 0);
    assert_eq!(top % u128::from(g), 0);
    let span = top - lo;
    let mut live: BTreeMap<u128, u128> = BTreeMap::new();

    for _ in 0..256 {
        if input.0.is_empty() {
            break;
        }
        match input.u8() % 4 {
            0 | 1 => {
                let size = match input.u8() % 4 {
                    0 => input.u64(),
                    _ => (u64::from(input.u8()) * g) >> (input.u8() % 4),
                };
                let (lowest, limit) = match input.u8() % 3 {
                    0 => (0, u64::MAX),
                    1 => (input.u64(), input.u64()),
                    _ => {
                        let at = |e: u8| (lo + span * u128::from(e % 9) / 8) as u64;
                        (at(input.u8()), at(input.u8()).saturating_sub(1))
                    }
                };
                let got = a.alloc_range(size, lowest, limit);
                let want = expected_alloc(&live, lo, top, shift, size, lowest, limit);
                assert_eq!(got, want, "alloc {size:#x} in {lowest:#x}..={limit:#x}");
                if let Ok(at) = got {
                    let block = u128::from(g) << order(size, shift).unwrap_or(0);
                    live.insert(u128::from(at), block);
                }
            }
            2 if !live.is_empty() => {
                let i = usize::from(input.u16()) % live.len();
                let Some((&at, &len)) = live.iter().nth(i) else {
                    continue;
                };
                // Any size that rounds to the block's order frees it.
                let size = (len as u64 >> (input.u8() % 2)).max(1);
                let size = if order(size, shift) == order(len as u64, shift) {
                    size
                } else {
                    len as u64
                };
                assert_eq!(a.free(at as u64, size), Ok(()), "free {at:#x}+{size:#x}");
                live.remove(&at);
                assert_eq!(
                    a.free(at as u64, size),
                    Err(IovaError::BadFree),
                    "double free"
                );
            }
            _ => {
                let (addr, size) = (input.u64(), input.u64());
                let want = match order(size, shift) {
                    None => Err(IovaError::BadSize),
                    Some(o) if live.get(&u128::from(addr)) == Some(&(u128::from(g) << o)) => Ok(()),
                    Some(_) => Err(IovaError::BadFree),
                };
                assert_eq!(a.free(addr, size), want, "free {addr:#x}+{size:#x}");
                if want.is_ok() {
                    live.remove(&u128::from(addr));
                }
            }
        }
        let used: u128 = live.values().sum();
        assert_eq!(a.free_bytes(), span - used, "free bytes");
    }
    for (at, len) in std::mem::take(&mut live) {
        assert_eq!(a.free(at as u64, len as u64), Ok(()));
    }
    assert_eq!(a.free_bytes(), span, "space lost after freeing everything");
    // Everything merged back: the largest aligned block the window holds is
    // found again (the model's answer on an empty window).
    let mut biggest = u128::from(g);
    while biggest * 2 <= span && biggest * 2 <= 1 << 63 {
        biggest *= 2;
    }
    let want = expected_alloc(&live, lo, top, shift, biggest as u64, 0, u64::MAX);
    assert_eq!(
        a.alloc(biggest as u64, u64::MAX),
        want,
        "largest block after freeing all"
    );
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

/// The block order of a request: pages rounded up to a power of two;
/// `None` for zero or beyond the allocator's orders.
fn order(size: u64, shift: u32) -> Option<u32> {
    if size == 0 {
        return None;
    }
    let pages = (size - 1) >> shift;
    let o = 64 - pages.leading_zeros();
    (o < ORDERS as u32).then_some(o)
}

/// The model's answer: the highest free aligned block in range.
fn expected_alloc(
    live: &BTreeMap<u128, u128>,
    lo: u128,
    top: u128,
    shift: u32,
    size: u64,
    lowest: u64,
    limit: u64,
) -> Result<u64, IovaError> {
    let o = order(size, shift).ok_or(IovaError::BadSize)?;
    let want = 1u128 << (shift + o);
    let floor = u128::from(lowest).max(lo);
    let end = (u128::from(limit) + 1).min(top);
    let mut at = end.checked_sub(want).ok_or(IovaError::Exhausted)? & !(want - 1);
    while at >= floor {
        // The highest live block starting below this candidate's end.
        match live.range(..at + want).next_back() {
            Some((&s, &l)) if s + l > at => {
                // Every candidate above `s - want` overlaps that block.
                at = s.checked_sub(want).ok_or(IovaError::Exhausted)? & !(want - 1);
            }
            _ => return Ok(at as u64),
        }
    }
    Err(IovaError::Exhausted)
}

//! The IOVA allocator: hands out naturally aligned power-of-two blocks of
//! a window, never outside it, without a heap, and never loses space.
//!
//! It is a buddy allocator whose whole state lives in caller-provided
//! storage (`&mut [u64]`, sized by [`storage_words`]). For every order `o`
//! (blocks of `granule << o` bytes) it keeps
//! - a *free* bitmap, one bit per aligned block of that order, set when the
//!   block is free as a whole (not merged into its parent), with
//!   hierarchical summaries above it (bit `w` of a summary word set when
//!   word `w` of the level below is non-zero), so the highest free block
//!   below an address is found with a handful of leading-zero scans;
//! - an *allocated* bitmap, one bit per block of that order, set while the
//!   block is handed out at exactly that order, so a double free or a free
//!   with the wrong address or size is an error and not silent corruption.
//!
//! Over all orders that is about four bits per granule page (two for the
//! free bitmaps, two for the allocated ones) plus summaries of about 1/64
//! of that. Freed blocks merge with their buddy, so free space is always
//! kept as maximal blocks and, once everything is freed, the whole window
//! is free again: nothing is lost.
//!
//! Placement is top-down (the highest suitable free address first, as
//! Linux's IOVA allocator prefers), which leaves low addresses for devices
//! limited to 32 bits: an allocation gets the highest naturally aligned
//! block inside the window and the device's `[lowest, limit]` that is
//! wholly free, and fails with [`IovaError::Exhausted`] only when there is
//! none. Space never handed out sits below a carve cursor and is in no
//! bitmap; a block freed right at the cursor moves it back up, so a
//! streaming workload near the top costs a few word operations per call
//! instead of splitting and merging a chain of buddies.
//!
//! A window too big to afford (a 48-bit aperture with 4K pages would need
//! 2^36 × 4 bits) is capped by the storage given:
//! [`IovaAllocator::new_capped`] manages the part [`capped_window`] picks.
//! [`DEFAULT_WORDS`] words (about 130 KiB) manage [`DEFAULT_WINDOW`] (1 GiB)
//! of 4K pages, which [`crate::domain::Domain`] users can take as a default.

/// Orders kept: blocks of `granule << 0` up to `granule << (ORDERS - 1)`.
pub const ORDERS: usize = 36;

/// Levels of a free bitmap (the bitmap and its summaries up to one word)
/// for up to 2^55 + 2 blocks: a 2^64-byte window of 512-byte pages.
const MAX_LEVELS: usize = 10;

/// A sensible default for how much IOVA space a domain manages: 1 GiB
/// (with 4K pages, [`DEFAULT_WORDS`] words = about 128 KiB of storage).
pub const DEFAULT_WINDOW: u64 = 1 << 30;

/// Storage words for [`DEFAULT_WINDOW`] with 4K granules.
pub const DEFAULT_WORDS: usize = storage_words(DEFAULT_WINDOW, 12);

/// Why an allocation or free failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IovaError {
    /// The window is empty, misaligned, or smaller than a granule.
    BadWindow,
    /// The storage is smaller than [`storage_words`] asks for this window.
    StorageTooSmall,
    /// Zero bytes, or more than the largest order.
    BadSize,
    /// No free block of that size inside the requested range.
    Exhausted,
    /// The freed block is not one this allocator handed out (never
    /// allocated, already freed, or freed with another size).
    BadFree,
}

impl core::fmt::Display for IovaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            IovaError::BadWindow => "IOVA window empty or not granule-aligned",
            IovaError::StorageTooSmall => "IOVA allocator storage too small for the window",
            IovaError::BadSize => "IOVA size zero or too large",
            IovaError::Exhausted => "IOVA space exhausted below the limit",
            IovaError::BadFree => "freeing an IOVA block that is not allocated",
        })
    }
}

/// Words of a bitmap of `bits` bits and its summaries up to one word.
const fn bitmap_words(bits: u64) -> u64 {
    let mut w = bits.div_ceil(64);
    let mut total = w;
    while w > 1 {
        w = w.div_ceil(64);
        total += w;
    }
    total
}

/// Highest order a window of `pages` granule pages can hold a block of.
const fn max_order(pages: u64) -> usize {
    let o = 63 - pages.leading_zeros() as usize;
    if o < ORDERS {
        o
    } else {
        ORDERS - 1
    }
}

/// Words of storage an allocator over a window of `size` bytes with pages
/// of `1 << granule_shift` bytes needs, wherever the window starts.
/// Saturates at `usize::MAX` for windows no machine could afford.
pub const fn storage_words(size: u64, granule_shift: u32) -> usize {
    if granule_shift >= 64 {
        return 0;
    }
    let pages = size >> granule_shift;
    if pages == 0 {
        return 0;
    }
    let mut total: u64 = 0;
    let mut o = 0;
    while o <= max_order(pages) {
        // Blocks of order `o` touching a window of `pages` pages, at most.
        let n = ((pages - 1) >> o) + 2;
        total = total
            .saturating_add(bitmap_words(n))
            .saturating_add(n.div_ceil(64));
        o += 1;
    }
    if total > usize::MAX as u64 {
        usize::MAX
    } else {
        total as usize
    }
}

/// The part of the granule-aligned window `[lo, hi)` that `words` words of
/// storage afford: all of it if they suffice; otherwise a power-of-two
/// number of pages, as many as affordable, placed as high as possible at or
/// below 4 GiB when the window reaches below 4 GiB (devices limited to
/// 32-bit addresses can use it, and Linux too hands out 32-bit IOVAs
/// first), else at the top of the window. `None` when not even one page is
/// affordable or the granule is not 512 bytes to 1 GiB.
pub fn capped_window(lo: u64, hi: u128, granule_shift: u32, words: usize) -> Option<(u64, u128)> {
    if !(9..=30).contains(&granule_shift) {
        return None;
    }
    let g = 1u128 << granule_shift;
    let span = hi.checked_sub(u128::from(lo))?;
    let pages = u64::try_from(span >> granule_shift).unwrap_or(u64::MAX);
    let fits = |p: u64| storage_words(p << granule_shift, granule_shift) <= words;
    if pages == 0 || !fits(1) {
        return None;
    }
    if fits(pages) {
        return Some((lo, hi));
    }
    // Largest affordable page count, by bisection (storage grows with it).
    let (mut ok, mut too_many) = (1u64, pages);
    while too_many - ok > 1 {
        let mid = ok + (too_many - ok) / 2;
        if fits(mid) {
            ok = mid;
        } else {
            too_many = mid;
        }
    }
    // A power of two: an aligned capped window is one maximal block.
    let len = u128::from(1u64 << (63 - ok.leading_zeros())) * g;
    let end = if u128::from(lo) < 1 << 32 {
        hi.min(1 << 32)
    } else {
        hi
    };
    let start = end.saturating_sub(len).max(u128::from(lo));
    let start = u64::try_from(start).ok()?;
    Some((start, u128::from(start) + len))
}

/// Where one order's bitmaps live in the storage.
#[derive(Clone, Copy, Debug, Default)]
struct OrderMap {
    /// Word offset of each level of the free bitmap: 0 is the bitmap,
    /// `levels - 1` the single root word.
    level: [usize; MAX_LEVELS],
    levels: usize,
    /// Word offset of the allocated bitmap.
    alloc: usize,
    /// Blocks of this order the window touches.
    slots: u64,
    /// Upper bound on the highest free index (tightened by searches), so a
    /// search from above starts at a set bit instead of climbing.
    hint: u64,
}

/// A power-of-two buddy IOVA allocator over a window, state in `storage`.
pub struct IovaAllocator<'s> {
    words: &'s mut [u64],
    shift: u32,
    /// First managed address.
    lo: u64,
    /// One past the last managed address, as u128 so a window reaching
    /// 2^64 is expressible.
    top: u128,
    /// Orders in use: `0..orders`.
    orders: usize,
    map: [OrderMap; ORDERS],
    /// Bit `o` set when order `o` has a free block: searches skip the rest.
    nonempty: u64,
    /// Everything in `[lo, cursor)` is free and in no bitmap: space never
    /// handed out yet, or handed back at the cursor. Allocation carves
    /// below it once no tracked free block serves; a block freed at it
    /// moves it back up. The granule at the cursor is always allocated (or
    /// the cursor is `top`), so no free space straddles it.
    cursor: u128,
    free_pages: u64,
}

impl core::fmt::Debug for IovaAllocator<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IovaAllocator")
            .field("window", &(self.lo, self.top))
            .field("granule_shift", &self.shift)
            .field("free_pages", &self.free_pages)
            .finish_non_exhaustive()
    }
}

impl<'s> IovaAllocator<'s> {
    /// An allocator over `[base, base + size)` in pages of `1 << granule_shift`
    /// bytes, keeping its state in `storage` (at least
    /// [`storage_words`]`(size, granule_shift)` words). Address 0 is never
    /// handed out (it reads as "no mapping").
    pub fn new(
        storage: &'s mut [u64],
        base: u64,
        size: u64,
        granule_shift: u32,
    ) -> Result<Self, IovaError> {
        let (lo, hi) = Self::clip(base, size, granule_shift)?;
        Self::over(storage, lo, hi, granule_shift)
    }

    /// Like [`new`](Self::new), but when `storage` cannot hold the whole
    /// window, manage the part of it [`capped_window`] picks.
    pub fn new_capped(
        storage: &'s mut [u64],
        base: u64,
        size: u64,
        granule_shift: u32,
    ) -> Result<Self, IovaError> {
        let (lo, hi) = Self::clip(base, size, granule_shift)?;
        let (lo, hi) = capped_window(lo, hi, granule_shift, storage.len())
            .ok_or(IovaError::StorageTooSmall)?;
        Self::over(storage, lo, hi, granule_shift)
    }

    /// The granule-aligned window without page 0, ending at 2^64 at most.
    fn clip(base: u64, size: u64, granule_shift: u32) -> Result<(u64, u128), IovaError> {
        if !(9..=30).contains(&granule_shift) {
            return Err(IovaError::BadWindow);
        }
        let g = 1u128 << granule_shift;
        let lo = (u128::from(base).max(g) + g - 1) & !(g - 1);
        // IOVAs are 64-bit: a window running past 2^64 ends there.
        let hi = (u128::from(base) + u128::from(size)).min(1 << 64) & !(g - 1);
        if hi <= lo {
            return Err(IovaError::BadWindow);
        }
        Ok((lo as u64, hi))
    }

    fn over(storage: &'s mut [u64], lo: u64, hi: u128, shift: u32) -> Result<Self, IovaError> {
        let pages =
            u64::try_from((hi - u128::from(lo)) >> shift).map_err(|_| IovaError::BadWindow)?;
        let orders = max_order(pages) + 1;
        let mut map = [OrderMap::default(); ORDERS];
        let mut at = 0usize;
        let first = u128::from(lo) >> shift;
        let last = (hi - 1) >> shift;
        for (o, m) in map.iter_mut().enumerate().take(orders) {
            m.slots = ((last >> o) - (first >> o) + 1) as u64;
            let mut w = m.slots.div_ceil(64);
            loop {
                *m.level
                    .get_mut(m.levels)
                    .ok_or(IovaError::StorageTooSmall)? = at;
                at = at
                    .checked_add(usize::try_from(w).map_err(|_| IovaError::StorageTooSmall)?)
                    .ok_or(IovaError::StorageTooSmall)?;
                m.levels += 1;
                if w == 1 {
                    break;
                }
                w = w.div_ceil(64);
            }
            m.alloc = at;
            at = at
                .checked_add(m.slots.div_ceil(64) as usize)
                .ok_or(IovaError::StorageTooSmall)?;
        }
        let words = storage.get_mut(..at).ok_or(IovaError::StorageTooSmall)?;
        words.fill(0);
        let a = Self {
            words,
            shift,
            lo,
            top: hi,
            orders,
            map,
            nonempty: 0,
            cursor: hi,
            free_pages: pages,
        };
        Ok(a)
    }

    /// The managed window `[start, end)`.
    pub fn window(&self) -> (u64, u128) {
        (self.lo, self.top)
    }

    /// Bytes currently free.
    pub fn free_bytes(&self) -> u128 {
        u128::from(self.free_pages) << self.shift
    }

    fn block(&self, order: usize) -> u128 {
        1u128 << (self.shift as usize + order)
    }

    fn order_of(&self, size: u64) -> Result<usize, IovaError> {
        if size == 0 {
            return Err(IovaError::BadSize);
        }
        let pages = (size - 1) >> self.shift;
        let order = (64 - pages.leading_zeros()) as usize;
        if order >= ORDERS {
            return Err(IovaError::BadSize);
        }
        Ok(order)
    }

    /// Index of the order-`o` block at `addr` (inside the window).
    fn index(&self, addr: u64, o: usize) -> u64 {
        let s = self.shift as usize + o;
        (addr >> s) - (self.lo >> s)
    }

    /// Address of the order-`o` block with index `i`.
    fn address(&self, i: u64, o: usize) -> u64 {
        let s = self.shift as usize + o;
        ((self.lo >> s) + i) << s
    }

    fn is_free(&self, o: usize, i: u64) -> bool {
        let w = self.map[o].level[0] + (i >> 6) as usize;
        self.words.get(w).is_some_and(|&x| x >> (i & 63) & 1 != 0)
    }

    /// Mark block `i` of order `o` free, up through the summaries.
    fn set_free(&mut self, o: usize, mut i: u64) {
        let m = &mut self.map[o];
        if self.nonempty & 1 << o == 0 || i > m.hint {
            m.hint = i;
        }
        for l in 0..m.levels {
            let w = m.level[l] + (i >> 6) as usize;
            let Some(word) = self.words.get_mut(w) else {
                return;
            };
            let was = *word;
            *word |= 1 << (i & 63);
            if was != 0 {
                return;
            }
            i >>= 6;
        }
        self.nonempty |= 1 << o;
    }

    /// Clear block `i` of order `o`, and the summaries that become empty.
    fn clear_free(&mut self, o: usize, mut i: u64) {
        let m = &self.map[o];
        for l in 0..m.levels {
            let w = m.level[l] + (i >> 6) as usize;
            let Some(word) = self.words.get_mut(w) else {
                return;
            };
            *word &= !(1 << (i & 63));
            if *word != 0 {
                return;
            }
            i >>= 6;
        }
        self.nonempty &= !(1 << o);
    }

    /// Highest free block of order `o` with index at most `cap`.
    fn prev_free(&mut self, o: usize, cap: u64) -> Option<u64> {
        let m = self.map[o];
        let start = cap.min(m.hint);
        let mut i = start;
        let mut l = 0;
        // Climb until a word has a set bit at or below the position.
        loop {
            let word = self.words.get(m.level[l] + (i >> 6) as usize)? & (!0u64 >> (63 - (i & 63)));
            if word != 0 {
                i = (i & !63) | u64::from(63 - word.leading_zeros());
                break;
            }
            if l + 1 == m.levels || i < 64 {
                if start == m.hint {
                    // Nothing at or below the hint: the order is empty
                    // (its nonempty bit is already clear).
                    self.map[o].hint = 0;
                }
                return None;
            }
            i = (i >> 6) - 1;
            l += 1;
        }
        // Descend along the highest set bits.
        while l > 0 {
            l -= 1;
            let word = *self.words.get(m.level[l] + i as usize)?;
            if word == 0 {
                return None;
            }
            i = (i << 6) | u64::from(63 - word.leading_zeros());
        }
        if start == m.hint {
            self.map[o].hint = i;
        }
        Some(i)
    }

    /// A cheap upper bound on the highest free index of order `o` at most
    /// `cap`: from the hint and the root summary word.
    fn bound(&self, o: usize, cap: u64) -> u64 {
        let m = &self.map[o];
        let root = self.words.get(m.level[m.levels - 1]).copied().unwrap_or(0);
        let top_bit = u64::from(63 - root.leading_zeros().min(63));
        // Each root bit stands for 64^(levels - 1) blocks.
        let span = 6 * (m.levels as u32 - 1);
        let from_root = ((top_bit + 1) << span) - 1;
        cap.min(m.hint).min(from_root)
    }

    fn alloc_bit(&mut self, o: usize, i: u64) -> Option<&mut u64> {
        self.words.get_mut(self.map[o].alloc + (i >> 6) as usize)
    }

    /// Track `[from, to)` (granule-aligned, free) as maximal aligned
    /// blocks. Used for the gap a carve below the cursor leaves above the
    /// new block: no two of these blocks are buddies (each was the largest
    /// that fit), and the one ending at the old cursor cannot merge upward
    /// (the granule at the old cursor is allocated), so no merging is due.
    fn track_range(&mut self, mut from: u128, to: u128) {
        while from < to {
            let mut o = ((from.trailing_zeros() - self.shift) as usize).min(self.orders - 1);
            while from + self.block(o) > to {
                o -= 1;
            }
            let i = self.index(from as u64, o);
            self.set_free(o, i);
            from += self.block(o);
        }
    }

    /// Move the cursor up over the tracked free blocks that start at it.
    fn absorb_at_cursor(&mut self) {
        'again: while self.cursor < self.top {
            // Only orders the cursor is aligned to can start there. Largest
            // first: the gap a carve tracked is maximal blocks, mostly as
            // large as their alignment allows, so this usually hits at once.
            let align = (self.cursor.trailing_zeros() - self.shift) as usize;
            let mut orders = self.nonempty & (u64::MAX >> (63 - align.min(63)));
            while orders != 0 {
                let o = 63 - orders.leading_zeros() as usize;
                orders &= !(1 << o);
                let i = self.index(self.cursor as u64, o);
                if self.is_free(o, i) {
                    self.clear_free(o, i);
                    self.cursor += self.block(o);
                    continue 'again;
                }
            }
            return;
        }
    }

    /// Allocate at least `size` bytes ending at or below `limit` (the
    /// device's last usable address). Returns the block's address; the block
    /// is `size` rounded up to a power-of-two number of granules, aligned to
    /// its own size.
    pub fn alloc(&mut self, size: u64, limit: u64) -> Result<u64, IovaError> {
        self.alloc_range(size, 0, limit)
    }

    /// [`alloc`](Self::alloc) for a device that can only drive bus addresses
    /// `[lowest, limit]` (its DMA window inside a shared domain).
    pub fn alloc_range(&mut self, size: u64, lowest: u64, limit: u64) -> Result<u64, IovaError> {
        let order = self.order_of(size)?;
        if order >= self.orders {
            return Err(IovaError::Exhausted);
        }
        let want = self.block(order);
        let end_limit = (u128::from(limit) + 1).min(self.top);
        let floor = u128::from(lowest.max(self.lo));
        // The highest start any block of this size could have.
        let ceiling = match end_limit.checked_sub(want) {
            Some(c) => c & !(want - 1),
            None => return Err(IovaError::Exhausted),
        };
        if ceiling < floor {
            return Err(IovaError::Exhausted);
        }
        // ceiling >= floor >= lo, and ceiling < top <= 2^64.
        let ceiling_addr = ceiling as u64;
        // The free block, of this order or larger, that holds the highest
        // suitable sub-block.
        // Largest orders first, skipping an order whose blocks all end too
        // low to beat the best so far (a bound from one word).
        let mut best: Option<(usize, u64, u128)> = None;
        let mut orders = self.nonempty >> order << order;
        while orders != 0 {
            let o = 63 - orders.leading_zeros() as usize;
            orders &= !(1 << o);
            let cap = self.index(ceiling_addr, o);
            let reach = u128::from(self.address(self.bound(o, cap), o)) + self.block(o);
            let most = (reach.min(end_limit) - want) & !(want - 1);
            if most < floor || best.is_some_and(|(_, _, c)| most <= c) {
                continue;
            }
            let Some(i) = self.prev_free(o, cap) else {
                continue;
            };
            let start = u128::from(self.address(i, o));
            let end = (start + self.block(o)).min(end_limit);
            let carve = (end - want) & !(want - 1);
            if carve >= floor && best.is_none_or(|(_, _, c)| carve > c) {
                best = Some((o, i, carve));
                if carve == ceiling {
                    break;
                }
            }
        }
        let Some((o, i, carve)) = best else {
            return self.carve(order, want, floor, end_limit);
        };
        self.clear_free(o, i);
        // Split down to `order`, freeing the halves that do not hold `carve`.
        let mut start = u128::from(self.address(i, o));
        for k in (order..o).rev() {
            let half = self.block(k);
            let (keep, other) = if carve >= start + half {
                (start + half, start)
            } else {
                (start, start + half)
            };
            let j = self.index(other as u64, k);
            self.set_free(k, j);
            start = keep;
        }
        Ok(self.mark_allocated(carve as u64, order))
    }

    /// Carve the highest block of `want` bytes below the cursor inside
    /// `[floor, end_limit)`. Every tracked free block lies above the cursor,
    /// so this is only asked when none of them serves.
    fn carve(
        &mut self,
        order: usize,
        want: u128,
        floor: u128,
        end_limit: u128,
    ) -> Result<u64, IovaError> {
        let ceiling = self.cursor.min(end_limit);
        let carve = match ceiling.checked_sub(want) {
            Some(c) => c & !(want - 1),
            None => return Err(IovaError::Exhausted),
        };
        if carve < floor {
            return Err(IovaError::Exhausted);
        }
        let gap_end = self.cursor;
        self.cursor = carve;
        self.track_range(carve + want, gap_end);
        Ok(self.mark_allocated(carve as u64, order))
    }

    fn mark_allocated(&mut self, addr: u64, order: usize) -> u64 {
        let j = self.index(addr, order);
        if let Some(w) = self.alloc_bit(order, j) {
            *w |= 1 << (j & 63);
        }
        self.free_pages -= 1 << order;
        addr
    }

    /// Free a block handed out by [`alloc`](Self::alloc) with the same `size`.
    pub fn free(&mut self, addr: u64, size: u64) -> Result<(), IovaError> {
        let order = self.order_of(size)?;
        let a = u128::from(addr);
        if order >= self.orders
            || a % self.block(order) != 0
            || addr < self.lo
            || a + self.block(order) > self.top
        {
            return Err(IovaError::BadFree);
        }
        let i = self.index(addr, order);
        match self.alloc_bit(order, i) {
            Some(w) if *w >> (i & 63) & 1 != 0 => *w &= !(1 << (i & 63)),
            _ => return Err(IovaError::BadFree),
        }
        self.free_pages += 1 << order;
        // Merge with free buddies while they exist inside the window.
        let mut o = order;
        while o + 1 < self.orders {
            let s = self.shift as usize + o;
            let Some(buddy) = ((addr >> s) ^ 1).checked_sub(self.lo >> s) else {
                break;
            };
            if buddy >= self.map[o].slots || !self.is_free(o, buddy) {
                break;
            }
            self.clear_free(o, buddy);
            o += 1;
        }
        let start = u128::from(addr) & !(self.block(o) - 1);
        if start == self.cursor {
            self.cursor += self.block(o);
            self.absorb_at_cursor();
        } else {
            let i = self.index(addr, o);
            self.set_free(o, i);
        }
        Ok(())
    }
}

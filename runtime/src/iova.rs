//! The IOVA allocator: hands out naturally aligned power-of-two blocks of
//! a window, never outside it, without a heap.
//!
//! Space is carved top-down from a cursor (as Linux's allocator prefers high
//! addresses, leaving low ones for 32-bit-limited devices): everything below
//! the cursor is free. Freed blocks go to per-order free stacks and merge
//! with their buddy when it is free too; a block freed at the cursor moves
//! the cursor back up. Each stack holds `CAP` blocks: when one is full a
//! freed block cannot be remembered and is counted in [`IovaAllocator::lost`]
//! instead (never handed out twice, never lost silently).

/// Orders kept: blocks of `granule << 0` up to `granule << (ORDERS - 1)`.
pub const ORDERS: usize = 36;

/// Why an allocation or free failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IovaError {
    /// The window is empty, misaligned, or smaller than a granule.
    BadWindow,
    /// Zero bytes, or more than the largest order.
    BadSize,
    /// No free block of that size below the limit.
    Exhausted,
    /// The freed block is not one this allocator handed out.
    BadFree,
}

impl core::fmt::Display for IovaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            IovaError::BadWindow => "IOVA window empty or not granule-aligned",
            IovaError::BadSize => "IOVA size zero or too large",
            IovaError::Exhausted => "IOVA space exhausted below the limit",
            IovaError::BadFree => "freeing an IOVA block that is not allocated",
        })
    }
}

/// A power-of-two IOVA allocator over `[base, base + size)`.
#[derive(Clone, Debug)]
pub struct IovaAllocator<const CAP: usize = 64> {
    shift: u32,
    base: u64,
    /// One past the last usable address, as u128 so a window reaching 2^64
    /// is expressible.
    top: u128,
    cursor: u128,
    free: [[u64; CAP]; ORDERS],
    len: [u16; ORDERS],
    /// Bit `o` set when the order-`o` stack is not empty: lets every scan
    /// skip the empty orders.
    nonempty: u64,
    lost: u64,
}

impl<const CAP: usize> IovaAllocator<CAP> {
    /// An allocator over `[base, base + size)` in pages of `1 << granule_shift`
    /// bytes. Address 0 is never handed out (it reads as "no mapping").
    pub fn new(base: u64, size: u64, granule_shift: u32) -> Result<Self, IovaError> {
        if !(9..=30).contains(&granule_shift) || CAP > u16::MAX as usize {
            return Err(IovaError::BadWindow);
        }
        let g = 1u128 << granule_shift;
        let lo = (u128::from(base).max(g) + g - 1) & !(g - 1);
        let hi = (u128::from(base) + u128::from(size)) & !(g - 1);
        if hi <= lo {
            return Err(IovaError::BadWindow);
        }
        Ok(Self {
            shift: granule_shift,
            base: lo as u64,
            top: hi,
            cursor: hi,
            free: [[0; CAP]; ORDERS],
            len: [0; ORDERS],
            nonempty: 0,
            lost: 0,
        })
    }

    /// The usable window `[start, end)`.
    pub fn window(&self) -> (u64, u128) {
        (self.base, self.top)
    }

    /// Bytes freed that the full free stacks could not keep.
    pub fn lost(&self) -> u64 {
        self.lost
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

    /// Orders with free blocks, ascending, from `from` on.
    fn orders_from(&self, from: usize) -> impl Iterator<Item = usize> {
        let mut bits = if from >= 64 {
            0
        } else {
            self.nonempty >> from << from
        };
        core::iter::from_fn(move || {
            (bits != 0).then(|| {
                let o = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                o
            })
        })
    }

    fn pop_at(&mut self, order: usize, pos: usize) -> u64 {
        let n = self.len[order] as usize;
        let addr = self.free[order][pos];
        self.free[order][pos] = self.free[order][n - 1];
        self.len[order] -= 1;
        if n == 1 {
            self.nonempty &= !(1 << order);
        }
        addr
    }

    fn block(&self, order: usize) -> u128 {
        1u128 << (self.shift as usize + order)
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
        let want = self.block(order);
        let end_limit = (u128::from(limit) + 1).min(self.top);
        let floor = u128::from(lowest.max(self.base));
        // 1. A free block of exactly this order; 2. split a larger one,
        // keeping its top part (top-down, like the carve below).
        let mut orders = self.nonempty >> order << order;
        while orders != 0 {
            let o = orders.trailing_zeros() as usize;
            orders &= orders - 1;
            if let Some(addr) = self.take_free(o, want, floor, end_limit) {
                let start = u128::from(addr) + self.block(o) - want;
                self.release_range(u128::from(addr), start);
                return Ok(start as u64);
            }
        }
        // 3. Carve below the cursor.
        let ceiling = self.cursor.min(end_limit);
        if ceiling < want {
            return Err(IovaError::Exhausted);
        }
        let start = (ceiling - want) & !(want - 1);
        if start < floor {
            return Err(IovaError::Exhausted);
        }
        // The gap above the new block stays allocatable.
        let gap_end = self.cursor;
        self.cursor = start;
        self.release_range(start + want, gap_end);
        Ok(start as u64)
    }

    /// Pop a block of `order` whose top `want` bytes lie in
    /// `[floor, end_limit)`.
    fn take_free(&mut self, order: usize, want: u128, floor: u128, end_limit: u128) -> Option<u64> {
        let n = self.len[order] as usize;
        let size = self.block(order);
        let pos = self.free[order][..n].iter().rposition(|&a| {
            let end = u128::from(a) + size;
            end <= end_limit && end - want >= floor
        })?;
        Some(self.pop_at(order, pos))
    }

    /// Return `[from, to)` (granule-aligned) to the free stacks as maximal
    /// aligned blocks.
    fn release_range(&mut self, mut from: u128, to: u128) {
        while from < to {
            let mut order = (from.trailing_zeros() as usize)
                .saturating_sub(self.shift as usize)
                .min(ORDERS - 1);
            while from + self.block(order) > to {
                order -= 1;
            }
            self.free_block(from as u64, order);
            from += self.block(order);
        }
    }

    /// Free a block handed out by [`alloc`](Self::alloc) with the same `size`.
    pub fn free(&mut self, addr: u64, size: u64) -> Result<(), IovaError> {
        let order = self.order_of(size)?;
        let block = self.block(order);
        let a = u128::from(addr);
        if a % block != 0 || a < self.cursor || a + block > self.top || self.is_free(addr, order) {
            return Err(IovaError::BadFree);
        }
        self.free_block(addr, order);
        Ok(())
    }

    fn is_free(&self, addr: u64, order: usize) -> bool {
        let a = u128::from(addr);
        let end = a + self.block(order);
        self.orders_from(0).any(|o| {
            let size = self.block(o);
            self.free[o][..self.len[o] as usize]
                .iter()
                .any(|&f| u128::from(f) < end && a < u128::from(f) + size)
        })
    }

    fn free_block(&mut self, mut addr: u64, mut order: usize) {
        loop {
            let block = self.block(order);
            if u128::from(addr) == self.cursor {
                // Adjacent to the carved edge: give it back to the cursor,
                // then absorb free blocks that now touch it.
                self.cursor += block;
                self.absorb_at_cursor();
                return;
            }
            if order + 1 < ORDERS {
                let buddy = u128::from(addr) ^ block;
                let n = self.len[order] as usize;
                if let Some(pos) = self.free[order][..n]
                    .iter()
                    .position(|&f| u128::from(f) == buddy)
                {
                    self.pop_at(order, pos);
                    addr = (u128::from(addr) & !block) as u64;
                    order += 1;
                    continue;
                }
            }
            let n = self.len[order] as usize;
            if n < CAP {
                self.free[order][n] = addr;
                self.len[order] += 1;
                self.nonempty |= 1 << order;
            } else {
                self.lost = self
                    .lost
                    .saturating_add(u64::try_from(block).unwrap_or(u64::MAX));
            }
            return;
        }
    }

    fn absorb_at_cursor(&mut self) {
        'again: loop {
            let mut orders = self.nonempty;
            while orders != 0 {
                let o = orders.trailing_zeros() as usize;
                orders &= orders - 1;
                let n = self.len[o] as usize;
                if let Some(pos) = self.free[o][..n]
                    .iter()
                    .position(|&f| u128::from(f) == self.cursor)
                {
                    self.pop_at(o, pos);
                    self.cursor += self.block(o);
                    continue 'again;
                }
            }
            return;
        }
    }
}

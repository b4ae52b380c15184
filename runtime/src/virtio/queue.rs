//! A split virtqueue in a [`DmaRegion`]: descriptor table, driver
//! ("available") ring and device ("used") ring, laid out at a fixed offset.
//! The driver owns every descriptor it has not made available; what the
//! device hands back through the used ring is checked against that before
//! it is believed.

use super::io::{barrier, DmaRegion};
use super::Error;

/// Most descriptors per queue the driver uses.
pub const MAX_SIZE: u16 = 8;
/// Bytes a queue of [`MAX_SIZE`] takes in the region.
pub const QUEUE_BYTES: usize = 256;

const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;

/// One buffer of a chain: device address, length, device-writable.
#[derive(Clone, Copy, Debug)]
pub struct Buffer {
    pub phys: u64,
    pub len: u32,
    pub writable: bool,
}

/// What the device returned: the chain's head and the bytes it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    pub head: u16,
    pub len: u32,
}

/// One split virtqueue's driver state.
#[derive(Debug)]
pub struct SplitQueue {
    base: usize,
    size: u16,
    /// Next free slot of the available ring (free-running).
    avail_idx: u16,
    /// Used entries consumed (free-running).
    used_seen: u16,
    /// Per head descriptor: the device-writable bytes of its chain, while
    /// the device owns it.
    owned: [Option<u32>; MAX_SIZE as usize],
}

impl SplitQueue {
    /// A queue of `size` entries (a power of two, at most [`MAX_SIZE`]) at
    /// `base` in the region; zeroes its rings.
    pub fn new(mem: &mut DmaRegion<'_>, base: usize, size: u16) -> Result<SplitQueue, Error> {
        if size == 0 || size > MAX_SIZE || !size.is_power_of_two() {
            return Err(Error::QueueSize(size));
        }
        if base % 16 != 0 || base + QUEUE_BYTES > mem.len() {
            return Err(Error::NoMemory);
        }
        mem.zero(base, QUEUE_BYTES);
        Ok(SplitQueue {
            base,
            size,
            avail_idx: 0,
            used_seen: 0,
            owned: [None; MAX_SIZE as usize],
        })
    }

    pub fn size(&self) -> u16 {
        self.size
    }
    fn desc(&self, i: u16) -> usize {
        self.base + 16 * usize::from(i)
    }
    fn avail(&self) -> usize {
        self.base + 16 * usize::from(self.size)
    }
    fn used(&self) -> usize {
        // After flags, idx, ring[size] and used_event, 4-byte aligned.
        (self.avail() + 6 + 2 * usize::from(self.size) + 3) & !3
    }
    /// Device addresses of the three parts, for the common configuration.
    pub fn addresses(&self, mem: &DmaRegion<'_>) -> (u64, u64, u64) {
        (
            mem.phys(self.desc(0)),
            mem.phys(self.avail()),
            mem.phys(self.used()),
        )
    }

    /// Whether any chain is with the device.
    pub fn busy(&self) -> bool {
        self.owned.iter().any(Option::is_some)
    }

    /// Writes `chain` into descriptors `head..head + chain.len()` and makes
    /// it available. The caller notifies the device.
    pub fn submit(
        &mut self,
        mem: &mut DmaRegion<'_>,
        head: u16,
        chain: &[Buffer],
    ) -> Result<(), Error> {
        let n = chain.len() as u16;
        if n == 0 || u32::from(head) + u32::from(n) > u32::from(self.size) {
            return Err(Error::QueueSize(self.size));
        }
        if (head..head + n).any(|i| self.owned[usize::from(i)].is_some()) {
            return Err(Error::Busy);
        }
        let mut writable = 0u32;
        for (k, b) in chain.iter().enumerate() {
            let i = head + k as u16;
            let d = self.desc(i);
            let last = k + 1 == chain.len();
            let flags =
                if last { 0 } else { DESC_F_NEXT } | if b.writable { DESC_F_WRITE } else { 0 };
            mem.write64(d, b.phys);
            mem.write32(d + 8, b.len);
            mem.write16(d + 12, flags);
            mem.write16(d + 14, if last { 0 } else { i + 1 });
            if b.writable {
                writable = writable.saturating_add(b.len);
            }
        }
        self.owned[usize::from(head)] = Some(writable);
        let slot = self.avail() + 4 + 2 * usize::from(self.avail_idx % self.size);
        mem.write16(slot, head);
        // The descriptors and the ring entry before the index publishing them.
        barrier();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        mem.write16(self.avail() + 2, self.avail_idx);
        barrier();
        Ok(())
    }

    /// The next chain the device returned, if any, checked: the used index
    /// moves by at most the chains the device owns, the head is one it
    /// owns, and the length is at most that chain's writable bytes.
    pub fn take_used(&mut self, mem: &DmaRegion<'_>) -> Result<Option<Used>, Error> {
        let idx = mem.read16(self.used() + 2);
        barrier();
        let pending = idx.wrapping_sub(self.used_seen);
        if pending == 0 {
            return Ok(None);
        }
        let owned = self.owned.iter().filter(|o| o.is_some()).count() as u16;
        if pending > owned {
            return Err(Error::BadUsedIndex {
                index: idx,
                seen: self.used_seen,
            });
        }
        let e = self.used() + 4 + 8 * usize::from(self.used_seen % self.size);
        let (id, len) = (mem.read32(e), mem.read32(e + 4));
        let head = u16::try_from(id)
            .ok()
            .filter(|&h| h < self.size)
            .ok_or(Error::BadUsedId(id))?;
        let max = self.owned[usize::from(head)].ok_or(Error::BadUsedId(id))?;
        if len > max {
            return Err(Error::BadUsedLength { len, max });
        }
        self.owned[usize::from(head)] = None;
        self.used_seen = self.used_seen.wrapping_add(1);
        Ok(Some(Used { head, len }))
    }
}

//! Circular-queue index arithmetic shared by the command and event queues.
//!
//! A producer or consumer register holds an index in its low `log2size`
//! bits and a wrap flag just above; the queue is empty when both match and
//! full when only the wrap flags differ. Bits above the wrap flag (CONS.ERR,
//! PROD.OVFLG) are not part of the position.

/// The geometry of one queue: 2^log2size entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueGeometry {
    log2size: u8,
}

impl QueueGeometry {
    /// `log2size` up to 19, the architecture's largest queue.
    pub const fn new(log2size: u8) -> Option<QueueGeometry> {
        if log2size > 19 {
            None
        } else {
            Some(QueueGeometry { log2size })
        }
    }

    pub const fn log2size(self) -> u8 {
        self.log2size
    }
    pub const fn entries(self) -> u32 {
        1 << self.log2size
    }
    const fn wrap_bit(self) -> u32 {
        1 << self.log2size
    }
    /// Index and wrap flag; everything else masked off.
    pub const fn position(self, reg: u32) -> u32 {
        reg & ((self.wrap_bit() << 1) - 1)
    }
    /// The slot a position refers to.
    pub const fn index(self, reg: u32) -> u32 {
        reg & (self.wrap_bit() - 1)
    }
    /// The position after `reg` (toggling the wrap flag at the end).
    pub const fn next(self, reg: u32) -> u32 {
        self.position(self.position(reg) + 1)
    }
    pub const fn is_empty(self, prod: u32, cons: u32) -> bool {
        self.position(prod) == self.position(cons)
    }
    pub const fn is_full(self, prod: u32, cons: u32) -> bool {
        self.position(prod) ^ self.position(cons) == self.wrap_bit()
    }
    /// Entries the producer has written and the consumer not yet read.
    pub const fn used(self, prod: u32, cons: u32) -> u32 {
        let (p, c) = (self.index(prod), self.index(cons));
        if self.position(prod) & self.wrap_bit() == self.position(cons) & self.wrap_bit() {
            p - c
        } else {
            self.entries() - c + p
        }
    }
    pub const fn free(self, prod: u32, cons: u32) -> u32 {
        self.entries() - self.used(prod, cons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_counts() {
        let q = QueueGeometry::new(2).unwrap(); // 4 entries, wrap flag = bit 2
        assert!(q.is_empty(0, 0));
        let mut prod = 0;
        for expected_used in 1..=4 {
            prod = q.next(prod);
            assert_eq!(q.used(prod, 0), expected_used);
        }
        // Four entries written: index 0 again, wrap flag set: full.
        assert_eq!(prod, 0b100);
        assert!(q.is_full(prod, 0));
        assert_eq!(q.free(prod, 0), 0);
        // The consumer catches up by 3: one used, across the wrap.
        let cons = 0b011;
        assert_eq!(q.used(prod, cons), 1);
        // Past the end the wrap flag toggles back.
        assert_eq!(q.next(0b111), 0);
        // CONS.ERR / PROD.OVFLG bits are ignored.
        assert!(q.is_empty(0x8000_0001, 0x0100_0001));
        assert_eq!(QueueGeometry::new(20), None);
    }
}

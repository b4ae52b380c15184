//! The exclusive mode's walk cache.
//!
//! `WAYS` paths to last-level tables, each keyed by its table's span
//! (`(iova >> span shift) + 1`, 0: empty) and held in the way that key
//! selects (key mod `WAYS`): callers alternating between neighbouring
//! last-level tables (two streams, two queues, a ring's wrap) keep one
//! way each. On a miss there, the most recent path's level-2 table, keyed
//! by its own span (`key2`), still skips the walk down to level 2 (IOVAs
//! scattered by a churned allocator).
//!
//! Read and written only by `&mut self` calls (relaxed atomics only so the
//! table stays `Sync`); emptied whenever any table is unlinked, so it
//! never names a freed table.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::Path;

/// Ways of the last-level cache.
pub(super) const WAYS: usize = 4;

pub(super) struct Hint {
    keys: [AtomicU64; WAYS],
    paths: [[AtomicU64; 4]; WAYS],
    key2: AtomicU64,
    /// The way whose path holds `key2`'s level-2 table.
    way2: AtomicU64,
}

/// In `path[START]`: the walk started from way `w` of the hint and only
/// the levels from its start down are filled in. No table lives at these
/// addresses (tables are aligned).
#[inline(always)]
pub(super) const fn marker(w: usize) -> u64 {
    u64::MAX - w as u64
}

/// The way a path's start-level word names, if it is a marker.
#[inline(always)]
pub(super) fn marked_way(start: u64) -> Option<usize> {
    let w = u64::MAX - start;
    (w < WAYS as u64).then_some(w as usize)
}

#[inline(always)]
fn way(key: u64) -> usize {
    key as usize % WAYS
}

impl Hint {
    pub const fn new() -> Self {
        Hint {
            keys: [const { AtomicU64::new(0) }; WAYS],
            paths: [const { [const { AtomicU64::new(0) }; 4] }; WAYS],
            key2: AtomicU64::new(0),
            way2: AtomicU64::new(0),
        }
    }

    /// The way holding the last-level table keyed `key`, and that table.
    #[inline(always)]
    pub fn last(&self, key: u64) -> Option<(usize, u64)> {
        let w = way(key);
        (self.keys[w].load(Relaxed) == key).then(|| (w, self.paths[w][3].load(Relaxed)))
    }

    /// The way holding the level-2 table keyed `key2`, and that table.
    #[inline(always)]
    pub fn level2(&self, key2: u64) -> Option<(usize, u64)> {
        if self.key2.load(Relaxed) != key2 {
            return None;
        }
        let w = self.way2.load(Relaxed) as usize % WAYS;
        Some((w, self.paths[w][2].load(Relaxed)))
    }

    /// Levels `from..=2` of way `w`'s path into `path`.
    #[inline(always)]
    pub fn fill_upper(&self, w: usize, path: &mut Path, from: usize) {
        for (p, h) in path.iter_mut().zip(&self.paths[w]).take(3).skip(from) {
            *p = h.load(Relaxed);
        }
    }

    /// Remember `path` (complete from level `from`) to the last-level
    /// table keyed `key`; `key2`: its level-2 table's key, for formats
    /// that start above level 2.
    #[inline(always)]
    pub fn record(&self, key: u64, key2: Option<u64>, path: &Path, from: usize) {
        let w = way(key);
        for (h, p) in self.paths[w].iter().zip(path).skip(from) {
            h.store(*p, Relaxed);
        }
        self.keys[w].store(key, Relaxed);
        if let Some(k2) = key2 {
            self.key2.store(k2, Relaxed);
            self.way2.store(w as u64, Relaxed);
        }
    }

    /// Forget every path (a table was unlinked).
    #[inline(always)]
    pub fn clear(&self) {
        for k in &self.keys {
            k.store(0, Relaxed);
        }
        self.key2.store(0, Relaxed);
    }
}

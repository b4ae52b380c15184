//! A CPU's handle on a shared table: the `&self` operations with a walk
//! cache of the handle's own.
//!
//! The table's own walk cache (`hint`) serves only `&mut self` calls: a
//! cache shared by CPUs would be written by all of them on every call. A
//! handle is one CPU's (or one queue's) and is not shared, so it keeps the
//! paths its calls walked, each with the retirement count read before its
//! walk began. That pair is exactly what a fresh walk gives the shared
//! single-page paths (`map_last_shared`, `unmap_last_shared`): while the
//! count has not moved, no table was unlinked, so the remembered table is
//! still where the walk found it (the argument of `reserve`, which does not
//! care when the walk happened, only that the count was read before it).
//! When the count has moved the handle walks again.

use super::{PageTable, Path};
use crate::pgtable::format::Format;
use crate::pgtable::pool::TablePool;
use crate::pgtable::tlb::TlbOps;
use crate::pgtable::MapError;
use crate::prot::Prot;

/// Ways of a handle's walk cache (as many as the exclusive walk cache).
const WAYS: usize = super::hint::WAYS;

/// One remembered walk.
#[derive(Clone, Copy)]
struct Way {
    /// `PageTable::hint_key` of the last-level table's span; 0: empty.
    key: u64,
    /// The retirement count read before the walk.
    epoch: u64,
    /// The tables from the start level down to the last-level one.
    path: Path,
}

/// A CPU's handle on a [`PageTable`] shared with other CPUs (made by
/// [`PageTable::handle`]). Its [`map`](Self::map) and [`unmap`](Self::unmap)
/// are the table's shared-mode [`map`](PageTable::map) and
/// [`unmap`](PageTable::unmap), under the same contract (CPUs work on
/// disjoint ranges), with single-page calls starting from the handle's own
/// walk cache instead of from the root.
pub struct Handle<'t, F: Format, P: TablePool, T: TlbOps> {
    pt: &'t PageTable<F, P, T>,
    ways: [Way; WAYS],
}

impl<F: Format, P: TablePool, T: TlbOps> PageTable<F, P, T> {
    /// A handle for one CPU: keep one per CPU (or per queue) and use it
    /// for that CPU's calls.
    pub fn handle(&self) -> Handle<'_, F, P, T> {
        Handle {
            pt: self,
            ways: [Way {
                key: 0,
                epoch: 0,
                path: [0; 4],
            }; WAYS],
        }
    }
}

impl<'t, F: Format, P: TablePool, T: TlbOps> Handle<'t, F, P, T> {
    /// The table this handle works on.
    pub fn table(&self) -> &'t PageTable<F, P, T> {
        self.pt
    }

    /// [`PageTable::map`] through this handle.
    #[inline]
    pub fn map(&mut self, iova: u64, paddr: u64, size: u64, prot: Prot) -> Result<(), MapError> {
        let pt = self.pt;
        let attrs = pt.map_attrs(iova, paddr, size, prot)?;
        if size == PageTable::<F, P, T>::G {
            if let Some((path, epoch)) = self.path(iova) {
                let ptr = pt.ptr(path[3]);
                if pt.map_last_shared(path[3], ptr, epoch, iova, paddr, attrs) {
                    return Ok(());
                }
                self.forget(iova);
            }
        }
        pt.map_range::<true>(iova, paddr, size, attrs)
    }

    /// [`PageTable::unmap`] through this handle.
    #[inline]
    pub fn unmap(&mut self, iova: u64, size: u64) -> u64 {
        let pt = self.pt;
        let Some(end) = PageTable::<F, P, T>::unmap_end(iova, size) else {
            return 0;
        };
        if size == PageTable::<F, P, T>::G {
            if let Some((path, epoch)) = self.path(iova) {
                let ptr = pt.ptr(path[3]);
                if let Some(n) = pt.unmap_last_shared(&path, ptr, epoch, iova) {
                    return n;
                }
                self.forget(iova);
            }
        }
        pt.unmap_range::<true>(iova, end)
    }

    /// [`PageTable::iova_to_phys`].
    #[inline]
    pub fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        self.pt.iova_to_phys(iova)
    }

    /// The path to the last-level table for `iova` and the retirement count
    /// read before its walk: remembered while the count has not moved, else
    /// walked now (and remembered). None when there is no last-level table
    /// for `iova` (or the format has one level).
    #[inline(always)]
    fn path(&mut self, iova: u64) -> Option<(Path, u64)> {
        let pt = self.pt;
        if PageTable::<F, P, T>::START >= 3 {
            return None;
        }
        let key = PageTable::<F, P, T>::hint_key(iova);
        let way = &mut self.ways[key as usize % WAYS];
        let now = pt.retirements::<true>();
        if way.key == key && way.epoch == now {
            return Some((way.path, now));
        }
        let (path, _) = pt.walk_to_last(iova)?;
        *way = Way {
            key,
            epoch: now,
            path,
        };
        Some((path, now))
    }

    /// Forget the walk for `iova` (its table was refused or is going).
    #[inline(always)]
    fn forget(&mut self, iova: u64) {
        let key = PageTable::<F, P, T>::hint_key(iova);
        let way = &mut self.ways[key as usize % WAYS];
        if way.key == key {
            way.key = 0;
        }
    }
}

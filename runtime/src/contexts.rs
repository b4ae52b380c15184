//! Translation contexts: a fixed number per main IOMMU instance, one taken
//! by each domain attached to it.
//!
//! Linux's Renesas IPMMU driver allocates a context on the main IPMMU
//! (`mmu->root`) the first time a domain is attached
//! (`ipmmu_domain_init_context` → `ipmmu_domain_allocate_context`): the
//! first free bit below `number_of_contexts`, context 0 set aside at probe
//! where `reserved_context` holds, `-EBUSY` when none is free. A cache
//! IPMMU draws on its main IPMMU's contexts. The attach of the group's
//! default domain then fails, the device is not added to the IOMMU, and it
//! keeps direct DMA ops: it runs untranslated.

use crate::fdt::{Node, NodeId};
use crate::instances;

/// The contexts one IOMMU instance draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextPool {
    /// The instance that holds them: the main instance for a cache one,
    /// else the instance itself.
    pub host: NodeId,
    /// How many the hardware has (Linux's `number_of_contexts`).
    pub total: u32,
    /// The first ones kept from domains (`reserved_context`: 1).
    pub reserved: u32,
}

impl ContextPool {
    /// The pool of instance `iommu` of a driver with `total` contexts,
    /// `reserved` of them kept back, and, with `main = Some((property,
    /// family))`, main and cache instances ([`instances`]): a cache
    /// instance draws on the main instance Linux's `ipmmu_find_root` picks.
    /// `None` for a cache instance without a main one (it never comes up).
    pub fn of(
        iommu: Node<'_>,
        total: u32,
        reserved: u32,
        main: Option<(&str, &[&str])>,
    ) -> Option<Self> {
        let host = match main {
            Some((property, family)) if instances::is_cache(iommu, property) => {
                instances::main_instance(iommu.tree(), property, family)?.id()
            }
            _ => iommu.id(),
        };
        Some(ContextPool {
            host,
            total,
            reserved,
        })
    }

    /// How many domains the pool holds.
    pub fn usable(&self) -> u32 {
        self.total.saturating_sub(self.reserved)
    }

    /// The context the next domain gets when `used` domains already hold
    /// one (contexts are never freed at boot), or `None` when all are taken.
    pub fn next(&self, used: u32) -> Option<u32> {
        (used < self.usable()).then(|| self.reserved + used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_after_the_reserved_ones_until_the_last() {
        let pool = ContextPool {
            host: NodeId(3),
            total: 8,
            reserved: 1,
        };
        assert_eq!(pool.usable(), 7);
        assert_eq!(pool.next(0), Some(1));
        assert_eq!(pool.next(6), Some(7));
        assert_eq!(pool.next(7), None);
        let one = ContextPool {
            host: NodeId(0),
            total: 1,
            reserved: 0,
        };
        assert_eq!((one.next(0), one.next(1)), (Some(0), None));
    }
}

//! How many translation contexts each context-holding IOMMU instance (a
//! main IPMMU, or an instance of a driver without `main property`) is
//! asked for: the domains that got one, plus the domains that found none
//! left (`no-context` masters, grouped as the driver's `domain` policy
//! groups them). Linux's `ipmmu_domain_allocate_context` hands out
//! contexts in attach order; the report attaches in tree order.

use iommugen_runtime::contexts::ContextPool;
use iommugen_runtime::decl::DomainPolicy;
use iommugen_runtime::fdt::{DeviceTree, NodeId};
use iommugen_runtime::init::{IommuState, IommuTable};
use iommugen_runtime::ops::{DomainInfo, DomainOwner};

use super::report::path_of;

/// One instance's contexts: what it has and what the tree asks of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextUse {
    /// The instance holding the contexts (the main IPMMU).
    pub iommu: String,
    pub total: u32,
    pub reserved: u32,
    /// Domains that got a context.
    pub held: u32,
    /// Domains the tree's masters need: `held` plus those refused.
    pub needed: u32,
}

impl ContextUse {
    /// Whether the tree needs more domains than the instance can hold.
    pub fn overcommitted(&self) -> bool {
        self.needed > self.total.saturating_sub(self.reserved)
    }
}

/// The domains refused for want of a context, as the run meets them.
#[derive(Default)]
pub(super) struct Needs {
    refused: Vec<(ContextPool, DomainOwner)>,
}

/// The pool a domain over `instances` draws on, as the runtime's setup
/// picks it (the first instance whose driver counts contexts), and
/// whether the drivers give each device its own domain.
fn pool_of(
    instances: &[NodeId],
    iommus: &IommuTable<'_, '_>,
    tree: &DeviceTree<'_>,
) -> (Option<ContextPool>, bool) {
    let mut pool = None;
    let mut per_device = false;
    for &node in instances {
        let Some(IommuState::Initialised { decl, .. }) = iommus.get(node).map(|r| r.state) else {
            continue;
        };
        per_device |= decl.driver.info().domain == DomainPolicy::PerDevice;
        if pool.is_none() {
            pool = tree.node(node).and_then(|n| decl.driver.contexts(n));
        }
    }
    (pool, per_device)
}

impl Needs {
    /// A master (or RID) whose domain found no context; `instances`: its
    /// fwspec's IOMMUs, `device`: the domain it would own per device.
    pub(super) fn refused(
        &mut self,
        device: DomainOwner,
        instances: &[NodeId],
        iommus: &IommuTable<'_, '_>,
        tree: &DeviceTree<'_>,
    ) {
        let (Some(pool), per_device) = pool_of(instances, iommus, tree) else {
            return;
        };
        let owner = match instances.first() {
            Some(&first) if !per_device => DomainOwner::Instance(first),
            _ => device,
        };
        if !self.refused.iter().any(|(_, o)| *o == owner) {
            self.refused.push((pool, owner));
        }
    }

    /// Every context-holding instance asked for at least one, in the
    /// order first met.
    pub(super) fn finish(
        self,
        domains: &[DomainInfo],
        iommus: &IommuTable<'_, '_>,
        tree: &DeviceTree<'_>,
    ) -> Vec<ContextUse> {
        let mut uses: Vec<(NodeId, ContextUse)> = Vec::new();
        let mut count = |pool: ContextPool, held: bool| {
            let i = match uses.iter().position(|(h, _)| *h == pool.host) {
                Some(i) => i,
                None => {
                    let iommu = tree.node(pool.host).map(path_of).unwrap_or_default();
                    uses.push((
                        pool.host,
                        ContextUse {
                            iommu,
                            total: pool.total,
                            reserved: pool.reserved,
                            held: 0,
                            needed: 0,
                        },
                    ));
                    uses.len() - 1
                }
            };
            let u = &mut uses[i].1;
            u.held += u32::from(held);
            u.needed += 1;
        };
        for d in domains.iter().filter(|d| d.context.is_some()) {
            if let (Some(pool), _) = pool_of(d.attached(), iommus, tree) {
                count(pool, true);
            }
        }
        for (pool, _) in self.refused {
            count(pool, false);
        }
        uses.into_iter().map(|(_, u)| u).collect()
    }
}

/// `dt::W0321`: an instance asked for more domains than it has contexts
/// (`--lint`); the masters past the count are reported `no-context`.
pub(super) fn lint(report: &super::Report, out: &mut Vec<super::TreeDiagnostic>) {
    for u in report.contexts.iter().filter(|u| u.overcommitted()) {
        let usable = u.total.saturating_sub(u.reserved);
        out.push(
            super::TreeDiagnostic::about(
                "warning",
                "dt::W0321",
                &u.iommu,
                None,
                format!(
                    "{}: the tree needs {} domains on it, but it has {} translation contexts ({} reserved): {} domains get none, and their masters run untranslated",
                    u.iommu,
                    u.needed,
                    u.total,
                    u.reserved,
                    u.needed - usable
                ),
            )
            .help("Linux hands out contexts in attach order (ipmmu_domain_allocate_context) and fails the rest with -EBUSY; attach fewer IOMMU instances' masters, or share instances"),
        );
    }
}

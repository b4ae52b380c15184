//! Shared domains: the chain of an instance's domains (its own and its
//! groups'), the instance that holds them (itself, or with
//! `shared_domains` its driver's first instance), and a master's group.

use super::{
    attach_all, context_for, new_domain, DomainId, DomainOwner, DomainTable, SetupError, NONE,
};
use crate::decl::IommuDriver;
use crate::fdt::{Node, NodeId};
use crate::fwspec::FwSpec;
use crate::init::{IommuState, IommuTable};

/// The first of `driver`'s groups set in `mask` (a master's
/// [`FwSpec::groups_for`] on one of the driver's instances): its lowest
/// bit, as groups are tried in order.
pub fn group_of(driver: &dyn IommuDriver, mask: u32) -> Option<(u32, crate::decl::GroupInfo<'_>)> {
    if mask == 0 {
        return None;
    }
    let g = mask.trailing_zeros();
    driver.group(g).map(|info| (g, info))
}

/// A `per_instance` slot holding `ALIAS | root` rather than a domain: the
/// instance shares the chain of the instance at record `root`.
pub(super) const ALIAS: u32 = 1 << 31;

/// The instance whose chain holds `node`'s shared domains: `node` itself,
/// or, for a driver with `shared_domains`, the first initialised instance
/// of the same driver (Linux's `hw_list`, whose first M4U holds the groups
/// and the page table of all). Found once per instance, then remembered in
/// its slot.
pub(super) fn chain_owner(
    iommus: &IommuTable<'_, '_>,
    domains: &mut DomainTable<'_>,
    node: NodeId,
    info: crate::decl::DriverInfo,
) -> NodeId {
    if !info.shared_domains {
        return node;
    }
    let Some(slot) = iommus.index_of(node) else {
        return node;
    };
    let records = iommus.records();
    match domains.per_instance.get(slot).copied() {
        Some(v) if v != NONE && v & ALIAS != 0 => {
            return records.get((v & !ALIAS) as usize).map_or(node, |r| r.node);
        }
        // Its own chain already: it is the root.
        Some(v) if v != NONE => return node,
        _ => {}
    }
    let Some(IommuState::Initialised { decl: own, .. }) = records.get(slot).map(|r| r.state) else {
        return node;
    };
    let name = own.driver.name();
    let root = records[..slot].iter().position(
        |r| matches!(r.state, IommuState::Initialised { decl, .. } if decl.driver.name() == name),
    );
    match root {
        Some(root) => {
            if let Some(s) = domains.per_instance.get_mut(slot) {
                *s = ALIAS | root as u32;
            }
            records[root].node
        }
        None => node,
    }
}

/// What a new domain for one master is made of.
pub(super) struct Shape<'a, 't, 'n, const IDS: usize, const IOMMUS: usize> {
    pub at: Node<'t>,
    pub fwspec: &'a FwSpec<IDS, IOMMUS>,
    pub iommus: &'a IommuTable<'t, 'n>,
    pub aperture: (u64, u128),
    pub granule: u64,
}

/// The domain `owner` (an instance's or a group's) shares, made on first
/// use with the first master's shape, and attached to this master's
/// instances. Found along the chain of the owning instance's shared
/// domains.
pub(super) fn shared<const IDS: usize, const IOMMUS: usize>(
    domains: &mut DomainTable<'_>,
    shape: &Shape<'_, '_, '_, IDS, IOMMUS>,
    owner: DomainOwner,
) -> Result<DomainId, SetupError> {
    let instance = match owner {
        DomainOwner::Instance(n) | DomainOwner::Group { instance: n, .. } => n,
        DomainOwner::Device(n) | DomainOwner::Pci { host: n, .. } => n,
    };
    let slot = shape
        .iommus
        .index_of(instance)
        .ok_or(SetupError::NotInitialised { node: instance })?;
    let head = domains.per_instance.get(slot).copied().unwrap_or(NONE);
    let mut at = head;
    while let Some(d) = domains.domains().get(at as usize) {
        if d.owner == owner {
            let id = DomainId(at);
            attach_all(domains, id, shape.fwspec)?;
            return Ok(id);
        }
        at = d.next_shared;
    }
    let context = context_for(shape.at, shape.fwspec, shape.iommus, domains)?;
    let id = new_domain(
        domains,
        owner,
        shape.fwspec,
        shape.aperture,
        shape.granule,
        context,
    )?;
    if let Some(d) = domains.domains.get_mut(id.0 as usize) {
        d.next_shared = head;
    }
    if let Some(s) = domains.per_instance.get_mut(slot) {
        *s = id.0;
    }
    Ok(id)
}

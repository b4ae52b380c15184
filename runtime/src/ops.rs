//! Seed step (4): `arch_setup_dma_ops`. Per master: coherent or not, the DMA
//! window and mask, and the ops: direct, or through the IOMMU with a domain
//! chosen by the drivers' policy (one per instance, one per device, one per
//! group of the driver's), or pass-through when the driver's default
//! domain is identity.
//!
//! A master behind several IOMMUs gets one domain (one address space) that
//! is attached to every one of its instances; its IOVA window is the
//! intersection of their apertures and the device's DMA window.

use crate::decl::DomainPolicy;
use crate::dma::{
    dma_window_below, is_coherent, own_coherence, DmaFacts, DmaRangeError, DmaWindow,
};
use crate::fdt::{Node, NodeId};
use crate::fwspec::FwSpec;
use crate::init::{IommuState, IommuTable};

mod shared;
pub use shared::group_of;
use shared::{chain_owner, shared, Shape, ALIAS};

/// Index into a [`DomainTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DomainId(pub u32);

/// Who a domain belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainOwner {
    /// Shared by the masters of this IOMMU instance.
    Instance(NodeId),
    /// Private to this master.
    Device(NodeId),
    /// Private to PCI function `rid` below host bridge `host`.
    Pci { host: NodeId, rid: u32 },
    /// Shared by the masters of the driver's group `group` on `instance`.
    Group { instance: NodeId, group: u32 },
}

/// Most IOMMU instances one domain can be attached to.
pub const MAX_ATTACH: usize = 4;

/// A domain's shape, decided at boot. The kernel builds the actual
/// [`Domain`](crate::domain::Domain) (allocator + page table) from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainInfo {
    pub owner: DomainOwner,
    /// Every IOMMU instance this address space is programmed into.
    pub attached: [NodeId; MAX_ATTACH],
    pub n_attached: u8,
    /// IOVA aperture `[base, base + size)`: the intersection of the
    /// attached drivers' apertures.
    pub aperture_base: u64,
    pub aperture_size: u64,
    /// Largest granule among the attached drivers.
    pub granule: u64,
    /// The translation context it holds: (the instance holding it, its
    /// index), for drivers that count them ([`crate::contexts`]).
    pub context: Option<(NodeId, u32)>,
    /// The next shared domain of the same instance (instance or group
    /// owner), `u32::MAX` at the end: a chain per instance, so finding a
    /// group's domain costs at most its driver's groups, not every domain.
    pub next_shared: u32,
}

impl DomainInfo {
    pub const EMPTY: DomainInfo = DomainInfo {
        owner: DomainOwner::Device(NodeId(0)),
        attached: [NodeId(0); MAX_ATTACH],
        n_attached: 0,
        aperture_base: 0,
        aperture_size: 0,
        granule: 0,
        context: None,
        next_shared: NONE,
    };

    pub fn attached(&self) -> &[NodeId] {
        &self.attached[..self.n_attached as usize]
    }
}

/// The ops a master gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaOps {
    /// No IOMMU: bus addresses are (translated) physical addresses.
    Direct,
    /// Behind an IOMMU in an identity domain: it passes DMA through, so
    /// bus addresses are physical addresses, as with [`DmaOps::Direct`].
    Identity,
    /// Through the IOMMU: allocate IOVAs in `domain` within `[iova_base,
    /// iova_last]` (`Domain::map_within`); the domain may be shared with
    /// devices whose windows differ.
    Iommu {
        domain: DomainId,
        iova_base: u64,
        iova_last: u64,
    },
}

/// What `arch_setup_dma_ops` decided for one master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaConfig {
    pub coherent: bool,
    /// `None` when no `dma-ranges` limits the device.
    pub window: Option<DmaWindow>,
    /// The DMA mask (all ones up to the window's last address, or 64 bits).
    pub mask: u64,
    pub ops: DmaOps,
}

/// Why `arch_setup_dma_ops` failed for a master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    DmaRanges(DmaRangeError),
    /// The domain storage is full.
    TooManyDomains {
        capacity: usize,
    },
    /// A domain would span more than [`MAX_ATTACH`] instances.
    TooManyInstances,
    /// The apertures and the DMA window do not overlap.
    EmptyIovaWindow,
    /// An instance in the fwspec is not an initialised IOMMU.
    NotInitialised {
        node: NodeId,
    },
    /// A new domain found every translation context of `host` taken
    /// (Linux's `ipmmu_domain_allocate_context` returns `-EBUSY`, the
    /// attach fails and the master keeps direct DMA): runs untranslated.
    NoContext {
        host: NodeId,
        total: u32,
        reserved: u32,
    },
    /// `domain per-group` and the master is in none of the driver's groups
    /// on `node` (Linux's `device_group` fails, so the master gets no
    /// IOMMU): runs untranslated.
    NoGroup {
        node: NodeId,
    },
}

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SetupError::DmaRanges(e) => write!(f, "dma-ranges: {e}"),
            SetupError::TooManyDomains { capacity } => {
                write!(f, "more than {capacity} DMA domains (storage full)")
            }
            SetupError::TooManyInstances => {
                write!(f, "domain attached to more than {MAX_ATTACH} IOMMUs")
            }
            SetupError::EmptyIovaWindow => {
                f.write_str("IOMMU aperture and DMA window do not overlap")
            }
            SetupError::NotInitialised { .. } => f.write_str("IOMMU instance not initialised"),
            SetupError::NoContext {
                total, reserved, ..
            } => write!(
                f,
                "every translation context is taken ({total}, {reserved} reserved)"
            ),
            SetupError::NoGroup { .. } => f.write_str(
                "in none of the IOMMU driver's groups (and it attaches only grouped masters)",
            ),
        }
    }
}

/// Domains in caller storage, plus the shared domain of each IOMMU
/// instance (indexed like [`IommuTable::records`]).
///
/// One table serves one tree. Coherence and windows depend only on a bus's
/// ancestry: given the tree's [`DmaFacts`] ([`DomainTable::with_dma_facts`])
/// each costs a lookup; without them the table remembers the last bus it
/// walked, so the many masters of one bus share that walk (but masters
/// nested in masters each walk to the root).
pub struct DomainTable<'s> {
    domains: &'s mut [DomainInfo],
    len: usize,
    per_instance: &'s mut [u32],
    bus_cache: Option<BusFacts>,
    facts: Option<DmaFacts<'s>>,
}

/// The DMA facts a bus hands its children.
#[derive(Clone, Copy)]
struct BusFacts {
    bus: NodeId,
    coherent: bool,
    window: Result<Option<DmaWindow>, DmaRangeError>,
}

const NONE: u32 = u32::MAX;

impl<'s> DomainTable<'s> {
    /// `per_instance` needs one slot per IOMMU record.
    pub fn new(domains: &'s mut [DomainInfo], per_instance: &'s mut [u32]) -> Self {
        per_instance.fill(NONE);
        Self {
            domains,
            len: 0,
            per_instance,
            bus_cache: None,
            facts: None,
        }
    }

    /// Use the tree's precomputed DMA facts: linear setup however deep
    /// the tree nests.
    pub fn with_dma_facts(mut self, facts: DmaFacts<'s>) -> Self {
        self.facts = Some(facts);
        self
    }

    /// The facts given to [`DomainTable::with_dma_facts`].
    pub fn dma_facts(&self) -> Option<&DmaFacts<'s>> {
        self.facts.as_ref()
    }

    /// Coherence of `node` and the window below it, from the facts or by
    /// walking.
    fn facts_below(&self, node: Node<'_>) -> (bool, Result<Option<DmaWindow>, DmaRangeError>) {
        match &self.facts {
            Some(f) => (f.is_coherent(node), f.dma_window_below(node)),
            None => (is_coherent(node), dma_window_below(node)),
        }
    }

    /// Coherence inherited from `bus` and the window of a device on it.
    fn bus_facts(&mut self, bus: Node<'_>) -> BusFacts {
        match self.bus_cache {
            Some(f) if f.bus == bus.id() => f,
            _ => {
                let (coherent, window) = self.facts_below(bus);
                let f = BusFacts {
                    bus: bus.id(),
                    coherent,
                    window,
                };
                self.bus_cache = Some(f);
                f
            }
        }
    }

    pub fn domains(&self) -> &[DomainInfo] {
        &self.domains[..self.len]
    }

    pub fn get(&self, id: DomainId) -> Option<&DomainInfo> {
        self.domains().get(id.0 as usize)
    }

    fn push(&mut self, info: DomainInfo) -> Result<DomainId, SetupError> {
        // Domain numbers stay below the `per_instance` alias bit.
        let capacity = self.domains.len().min(ALIAS as usize);
        if self.len >= capacity {
            return Err(SetupError::TooManyDomains { capacity });
        }
        let slot = self
            .domains
            .get_mut(self.len)
            .ok_or(SetupError::TooManyDomains { capacity })?;
        *slot = info;
        self.len += 1;
        Ok(DomainId(self.len as u32 - 1))
    }
}

fn intersect(a: (u64, u128), b: (u64, u128)) -> (u64, u128) {
    (a.0.max(b.0), a.1.min(b.1))
}

/// Decide coherence, window, mask and ops for `master` whose fwspec has
/// been filled by `of_iommu_configure` (empty: direct DMA).
pub fn arch_setup_dma_ops<const IDS: usize, const IOMMUS: usize>(
    master: Node<'_>,
    fwspec: &FwSpec<IDS, IOMMUS>,
    iommus: &IommuTable<'_, '_>,
    domains: &mut DomainTable<'_>,
) -> Result<DmaConfig, SetupError> {
    let (bus_coherent, window) = match master.parent() {
        Some(bus) => {
            let f = domains.bus_facts(bus);
            (f.coherent, f.window)
        }
        None => (false, Ok(None)),
    };
    let coherent = own_coherence(master).unwrap_or(bus_coherent);
    let window = window.map_err(SetupError::DmaRanges)?;
    setup(
        master,
        DomainOwner::Device(master.id()),
        coherent,
        window,
        fwspec,
        iommus,
        domains,
    )
}

/// [`arch_setup_dma_ops`] for PCI function `rid` below host bridge `host`:
/// it inherits the bridge's coherence and sees the bridge's `dma-ranges`.
pub fn arch_setup_pci_dma_ops<const IDS: usize, const IOMMUS: usize>(
    host: Node<'_>,
    rid: u32,
    fwspec: &FwSpec<IDS, IOMMUS>,
    iommus: &IommuTable<'_, '_>,
    domains: &mut DomainTable<'_>,
) -> Result<DmaConfig, SetupError> {
    let (coherent, window) = domains.facts_below(host);
    let window = window.map_err(SetupError::DmaRanges)?;
    let owner = DomainOwner::Pci {
        host: host.id(),
        rid,
    };
    setup(host, owner, coherent, window, fwspec, iommus, domains)
}

fn setup<const IDS: usize, const IOMMUS: usize>(
    at: Node<'_>,
    device: DomainOwner,
    coherent: bool,
    window: Option<DmaWindow>,
    fwspec: &FwSpec<IDS, IOMMUS>,
    iommus: &IommuTable<'_, '_>,
    domains: &mut DomainTable<'_>,
) -> Result<DmaConfig, SetupError> {
    let mask = window.map_or(u64::MAX, |w| w.mask());
    if fwspec.is_empty() {
        return Ok(DmaConfig {
            coherent,
            window,
            mask,
            ops: DmaOps::Direct,
        });
    }
    if fwspec.iommus().len() > MAX_ATTACH {
        return Err(SetupError::TooManyInstances);
    }
    // Gather each instance's driver facts.
    let mut per_device = false;
    let mut identity = false;
    let mut group: Option<(NodeId, u32)> = None;
    let mut aperture: (u64, u128) = (0, u128::MAX);
    let mut granule = 0;
    for &node in fwspec.iommus() {
        let Some(IommuState::Initialised { decl, .. }) = iommus.get(node).map(|r| r.state) else {
            return Err(SetupError::NotInitialised { node });
        };
        let info = decl.driver.info();
        per_device |= info.domain == DomainPolicy::PerDevice;
        identity |= info.identity_default
            || (matches!(device, DomainOwner::Device(_)) && decl.driver.identity_for(at));
        let (base, size) = match group_of(decl.driver, fwspec.groups_for(node)) {
            Some((g, gi)) => {
                // The first instance's group decides; later ones only
                // narrow the aperture.
                if group.is_none() {
                    group = Some((chain_owner(iommus, domains, node, info), g));
                }
                (gi.aperture_base, gi.aperture_size)
            }
            None if info.domain == DomainPolicy::PerGroup => {
                return Err(SetupError::NoGroup { node });
            }
            None => (info.aperture_base, info.aperture_size),
        };
        aperture = intersect(aperture, (base, u128::from(base) + u128::from(size)));
        granule = granule.max(info.granule);
    }
    if identity {
        return Ok(DmaConfig {
            coherent,
            window,
            mask,
            ops: DmaOps::Identity,
        });
    }
    let device_range = window.map_or((0, 1u128 << 64), |w| {
        (w.base, u128::from(w.base) + u128::from(w.size))
    });
    let (lo, hi) = intersect(aperture, device_range);
    if u128::from(lo) >= hi {
        return Err(SetupError::EmptyIovaWindow);
    }
    let iova_last = u64::try_from(hi - 1).unwrap_or(u64::MAX);
    let shape = Shape {
        at,
        fwspec,
        iommus,
        aperture,
        granule,
    };
    let domain = match group {
        Some((instance, group)) => shared(domains, &shape, DomainOwner::Group { instance, group })?,
        None if per_device => {
            let context = context_for(at, fwspec, iommus, domains)?;
            new_domain(domains, device, fwspec, aperture, granule, context)?
        }
        None => {
            let first = fwspec.iommus()[0];
            let owner = match iommus.get(first).map(|r| r.state) {
                Some(IommuState::Initialised { decl, .. }) => {
                    chain_owner(iommus, domains, first, decl.driver.info())
                }
                _ => first,
            };
            shared(domains, &shape, DomainOwner::Instance(owner))?
        }
    };
    Ok(DmaConfig {
        coherent,
        window,
        mask,
        ops: DmaOps::Iommu {
            domain,
            iova_base: lo,
            iova_last,
        },
    })
}

fn new_domain<const IDS: usize, const IOMMUS: usize>(
    domains: &mut DomainTable<'_>,
    owner: DomainOwner,
    fwspec: &FwSpec<IDS, IOMMUS>,
    aperture: (u64, u128),
    granule: u64,
    context: Option<(NodeId, u32)>,
) -> Result<DomainId, SetupError> {
    let mut info = DomainInfo::EMPTY;
    info.owner = owner;
    info.context = context;
    info.aperture_base = aperture.0;
    info.aperture_size =
        u64::try_from(aperture.1.saturating_sub(u128::from(aperture.0))).unwrap_or(u64::MAX);
    info.granule = granule;
    let id = domains.push(info)?;
    attach_all(domains, id, fwspec)?;
    Ok(id)
}

/// The context a new domain for `fwspec` takes: from the pool of its first
/// instance whose driver counts contexts (Linux's domain lives on one
/// IPMMU, `domain->mmu`, and its root's contexts), after every domain that
/// already holds one of that pool. `at`: a node of the tree, to reach the
/// instances' nodes.
fn context_for<const IDS: usize, const IOMMUS: usize>(
    at: Node<'_>,
    fwspec: &FwSpec<IDS, IOMMUS>,
    iommus: &IommuTable<'_, '_>,
    domains: &DomainTable<'_>,
) -> Result<Option<(NodeId, u32)>, SetupError> {
    let tree = at.tree();
    for &node in fwspec.iommus() {
        let Some(IommuState::Initialised { decl, .. }) = iommus.get(node).map(|r| r.state) else {
            continue;
        };
        let Some(pool) = tree.node(node).and_then(|n| decl.driver.contexts(n)) else {
            continue;
        };
        let used = domains
            .domains()
            .iter()
            .filter(|d| matches!(d.context, Some((h, _)) if h == pool.host))
            .count();
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        return match pool.next(used) {
            Some(index) => Ok(Some((pool.host, index))),
            None => Err(SetupError::NoContext {
                host: pool.host,
                total: pool.total,
                reserved: pool.reserved,
            }),
        };
    }
    Ok(None)
}

fn attach_all<const IDS: usize, const IOMMUS: usize>(
    domains: &mut DomainTable<'_>,
    id: DomainId,
    fwspec: &FwSpec<IDS, IOMMUS>,
) -> Result<(), SetupError> {
    let Some(info) = domains.domains.get_mut(id.0 as usize) else {
        return Err(SetupError::TooManyDomains { capacity: 0 });
    };
    for &node in fwspec.iommus() {
        if info.attached().contains(&node) {
            continue;
        }
        let n = info.n_attached as usize;
        if n >= MAX_ATTACH {
            return Err(SetupError::TooManyInstances);
        }
        info.attached[n] = node;
        info.n_attached += 1;
    }
    Ok(())
}

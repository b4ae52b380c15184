//! Seed step (3): `of_iommu_configure`. Parse a master's `iommus` (or, for a
//! PCI function, its host bridge's `iommu-map`), hand each specifier to the
//! owning driver's `of_xlate`, and collect the fwspec.
//!
//! The rules follow Linux's of_iommu: a phandle of 0 is an empty entry; a
//! disabled IOMMU makes the whole master run untranslated (not an error); an
//! IOMMU whose driver has not initialised it is a retryable error (Linux
//! defers the probe); any malformed entry is an error.

use crate::decl::{DriverError, IommuDriver};
use crate::fdt::{Cells, DeviceTree, Node, NodeId, PhandleError, Property};
use crate::fwspec::{FwSpec, FwSpecFull};
use crate::init::{IommuState, IommuTable};
use crate::map_id::{of_map_id, MapError};
use crate::master::{Master, Refusal, NAME_LEN};
use crate::probe::ProbeRefusal;

/// Most cells a specifier may have (Linux's `MAX_PHANDLE_ARGS`).
pub const MAX_SPECIFIER_CELLS: u32 = 16;

/// Why a master could not be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigureError {
    /// `iommus` is not a whole number of cells.
    Malformed,
    /// The phandle of entry `entry` names no node, or several.
    Phandle { entry: usize, error: PhandleError },
    /// Entry `entry` points at a node without `#iommu-cells`: not an IOMMU.
    NotAnIommu { entry: usize, node: NodeId },
    /// The IOMMU's `#iommu-cells` is missing a value or larger than
    /// [`MAX_SPECIFIER_CELLS`].
    BadCellCount { entry: usize, node: NodeId },
    /// Entry `entry` claims more cells than the property has left.
    Truncated { entry: usize },
    /// The IOMMU exists but no driver has initialised it (unclaimed, or its
    /// hook failed). The caller may retry later, as Linux defers probe.
    NotInitialised { node: NodeId },
    /// The driver rejected entry `entry`.
    Driver {
        entry: usize,
        node: NodeId,
        error: DriverError,
    },
    /// The driver of IOMMU `node` failed its probe step with `error`
    /// (other than refusing the master).
    Probe { node: NodeId, error: DriverError },
    /// The fwspec's fixed storage is full.
    Full(FwSpecFull),
    /// The host bridge's `iommu-map` is unusable.
    Map(MapError),
}

impl core::fmt::Display for ConfigureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigureError::Malformed => f.write_str("`iommus` is not a whole number of cells"),
            ConfigureError::Phandle { entry, error } => match error {
                PhandleError::Dangling(p) => {
                    write!(f, "iommus entry {entry}: phandle {p:#x} names no node")
                }
                PhandleError::Duplicate(p) => write!(
                    f,
                    "iommus entry {entry}: phandle {p:#x} is declared by several nodes"
                ),
            },
            ConfigureError::NotAnIommu { entry, .. } => write!(
                f,
                "iommus entry {entry}: the phandle's node has no #iommu-cells (not an IOMMU)"
            ),
            ConfigureError::BadCellCount { entry, .. } => write!(
                f,
                "iommus entry {entry}: the IOMMU's #iommu-cells is malformed or above {MAX_SPECIFIER_CELLS}"
            ),
            ConfigureError::Truncated { entry } => {
                write!(f, "iommus entry {entry}: fewer cells left than #iommu-cells")
            }
            ConfigureError::NotInitialised { .. } => {
                f.write_str("IOMMU not initialised by any driver (probe would be deferred)")
            }
            ConfigureError::Driver { entry, error, .. } => {
                write!(f, "iommus entry {entry}: of_xlate: {error}")
            }
            ConfigureError::Probe { error, .. } => write!(f, "probe_device: {error}"),
            ConfigureError::Full(e) => e.fmt(f),
            ConfigureError::Map(e) => write!(f, "iommu-map: {e}"),
        }
    }
}

/// What configuring a master found, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Configured {
    /// The fwspec holds the master's IOMMUs and IDs.
    Translated,
    /// The master names no IOMMU (no `iommus`, or only empty entries).
    NoIommu,
    /// It names an IOMMU whose `status` is disabled: runs untranslated.
    IommuDisabled { node: NodeId },
    /// PCI: no `iommu-map` entry covers the requester ID.
    NoMapEntry,
    /// The driver of IOMMU `node` refused the master (Linux's `-ENODEV`
    /// from `of_xlate`, e.g. Renesas IPMMU's allow-list): runs untranslated.
    MasterRefused { node: NodeId, refusal: Refusal },
    /// The probe step of IOMMU `node`'s driver refused the master once all
    /// its specifiers were read (Linux's `probe_device` failing, the
    /// device left without an IOMMU): runs untranslated.
    ProbeRefused { node: NodeId, refusal: ProbeRefusal },
}

/// Configure `master` from its `iommus` property into `fwspec` (cleared
/// first; left empty unless the result is `Translated`).
pub fn of_iommu_configure<const IDS: usize, const IOMMUS: usize>(
    master: Node<'_>,
    iommus: &IommuTable<'_, '_>,
    fwspec: &mut FwSpec<IDS, IOMMUS>,
) -> Result<Configured, ConfigureError> {
    fwspec.clear();
    let result = configure_iommus(master, iommus, fwspec);
    if !matches!(result, Ok(Configured::Translated)) {
        fwspec.clear();
    }
    result
}

fn configure_iommus<const IDS: usize, const IOMMUS: usize>(
    master: Node<'_>,
    iommus: &IommuTable<'_, '_>,
    fwspec: &mut FwSpec<IDS, IOMMUS>,
) -> Result<Configured, ConfigureError> {
    let Some(prop) = master.property("iommus") else {
        return Ok(Configured::NoIommu);
    };
    let mut name = [0u8; NAME_LEN];
    let named = crate::devname::platform_name(master, &mut name).ok();
    let who = Master::platform(master, named);
    let mut args = [0u32; MAX_SPECIFIER_CELLS as usize];
    for e in iommus_entries(master.tree(), prop)? {
        let e = e?;
        let count = e.specifier.len();
        for (slot, cell) in args.iter_mut().zip(e.specifier.iter()) {
            *slot = cell;
        }
        if let Some(done) = xlate(&who, e.iommu, iommus, &args[..count], e.entry, fwspec)? {
            return Ok(done);
        }
    }
    if fwspec.is_empty() {
        return Ok(Configured::NoIommu);
    }
    Ok(probe(&who, iommus, fwspec)?.unwrap_or(Configured::Translated))
}

/// The driver owning instance `node`. The probe step tells drivers apart
/// by [`IommuDriver::name`]: generated drivers are unit structs, and two
/// zero-sized statics may share an address, so a pointer says nothing.
fn driver_of<'d>(iommus: &IommuTable<'_, 'd>, node: NodeId) -> Option<&'d dyn IommuDriver> {
    match iommus.get(node).map(|r| r.state) {
        Some(IommuState::Initialised { decl, .. }) => Some(decl.driver),
        _ => None,
    }
}

/// The probe step: each driver of the fwspec, once, in the order its
/// first instance was named, sees its part of the fwspec (the instances
/// whose driver has its name; a driver that `extends` another has a name
/// of its own, so counts apart). `Ok(Some(_))`: a driver refused the
/// master.
fn probe<const IDS: usize, const IOMMUS: usize>(
    master: &Master<'_>,
    iommus: &IommuTable<'_, '_>,
    fwspec: &FwSpec<IDS, IOMMUS>,
) -> Result<Option<Configured>, ConfigureError> {
    let named = fwspec.iommus();
    for (i, &node) in named.iter().enumerate() {
        let Some(driver) = driver_of(iommus, node) else {
            continue;
        };
        let name = driver.name();
        let same = |n: NodeId| driver_of(iommus, n).is_some_and(|d| d.name() == name);
        if named
            .get(..i)
            .is_some_and(|before| before.iter().any(|&n| same(n)))
        {
            continue;
        }
        match driver.probe_device(master, &fwspec.probe_view(&same)) {
            Ok(()) => {}
            Err(DriverError::ProbeRefused(refusal)) => {
                return Ok(Some(Configured::ProbeRefused { node, refusal }));
            }
            Err(error) => return Err(ConfigureError::Probe { node, error }),
        }
    }
    Ok(None)
}

/// One non-empty entry of a master's `iommus`.
#[derive(Clone, Copy, Debug)]
pub struct IommusEntry<'a> {
    /// Its position, counting empty (phandle 0) entries.
    pub entry: usize,
    /// The IOMMU node the phandle names.
    pub iommu: Node<'a>,
    /// Its `#iommu-cells` specifier cells.
    pub specifier: Cells<'a>,
}

/// The entries of an `iommus` property, as `of_iommu_configure` reads
/// them: empty entries skipped, each entry's length from its IOMMU's
/// `#iommu-cells`. The first malformed entry is an error, and nothing
/// after it can be read.
pub fn iommus_entries<'a>(
    tree: DeviceTree<'a>,
    prop: Property<'a>,
) -> Result<impl Iterator<Item = Result<IommusEntry<'a>, ConfigureError>> + 'a, ConfigureError> {
    let mut rest = prop.cells().ok_or(ConfigureError::Malformed)?;
    let mut entry = 0;
    let mut failed = false;
    Ok(core::iter::from_fn(move || {
        if failed {
            return None;
        }
        let next = (|| {
            loop {
                let phandle = rest.get(0)?;
                rest = rest.split(1).map(|(_, r)| r).unwrap_or(rest);
                if phandle != 0 {
                    break Some(phandle);
                }
                // An empty entry: a placeholder with no arguments.
                entry += 1;
            }
        })()?;
        let read = (|| {
            let iommu = tree
                .by_phandle(next)
                .map_err(|error| ConfigureError::Phandle { entry, error })?;
            let Some(cells_prop) = iommu.property("#iommu-cells") else {
                return Err(ConfigureError::NotAnIommu {
                    entry,
                    node: iommu.id(),
                });
            };
            let count = cells_prop
                .as_u32()
                .filter(|&n| n <= MAX_SPECIFIER_CELLS)
                .ok_or(ConfigureError::BadCellCount {
                    entry,
                    node: iommu.id(),
                })?;
            let (specifier, after) = rest
                .split(count as usize)
                .ok_or(ConfigureError::Truncated { entry })?;
            rest = after;
            Ok(IommusEntry {
                entry,
                iommu,
                specifier,
            })
        })();
        failed = read.is_err();
        entry += 1;
        Some(read)
    }))
}

/// Hand one specifier to the driver owning `iommu`. `Ok(Some(_))` ends the
/// master's configuration early (its IOMMU is disabled, or its driver
/// refused the master).
fn xlate<const IDS: usize, const IOMMUS: usize>(
    master: &Master<'_>,
    iommu: Node<'_>,
    iommus: &IommuTable<'_, '_>,
    args: &[u32],
    entry: usize,
    fwspec: &mut FwSpec<IDS, IOMMUS>,
) -> Result<Option<Configured>, ConfigureError> {
    let node = iommu.id();
    match iommus.get(node).map(|r| r.state) {
        Some(IommuState::Disabled { .. }) => Ok(Some(Configured::IommuDisabled { node })),
        None if !iommu.is_available() => Ok(Some(Configured::IommuDisabled { node })),
        Some(IommuState::Initialised { decl, data }) => {
            let mut sink = fwspec.sink(node).map_err(ConfigureError::Full)?;
            match decl.driver.of_xlate(master, iommu, data, args, &mut sink) {
                Ok(()) => Ok(None),
                Err(DriverError::MasterRefused(refusal)) => {
                    Ok(Some(Configured::MasterRefused { node, refusal }))
                }
                Err(error) => Err(ConfigureError::Driver { entry, node, error }),
            }
        }
        Some(IommuState::Failed { .. } | IommuState::Unclaimed) | None => {
            Err(ConfigureError::NotInitialised { node })
        }
    }
}

/// Configure PCI function `rid` behind host bridge `host` through the
/// bridge's `iommu-map` / `iommu-map-mask`. Returns the IOMMU and mapped ID
/// when an entry covers the RID.
pub fn of_pci_iommu_configure<const IDS: usize, const IOMMUS: usize>(
    host: Node<'_>,
    rid: u32,
    iommus: &IommuTable<'_, '_>,
    fwspec: &mut FwSpec<IDS, IOMMUS>,
) -> Result<(Configured, Option<(NodeId, u32)>), ConfigureError> {
    fwspec.clear();
    let mapped =
        of_map_id(host, rid, "iommu-map", "iommu-map-mask").map_err(ConfigureError::Map)?;
    let Some((target, id)) = mapped else {
        return Ok((Configured::NoMapEntry, None));
    };
    let tree = host.tree();
    let iommu = tree
        .node(target)
        .ok_or(ConfigureError::NotInitialised { node: target })?;
    if iommus.get(target).is_none() && !iommu.has_property("#iommu-cells") {
        return Err(ConfigureError::NotAnIommu {
            entry: 0,
            node: target,
        });
    }
    let mut name = [0u8; NAME_LEN];
    let named = crate::devname::pci_name(crate::devname::pci_domain(host), rid, &mut name).ok();
    let who = Master::pci(host, rid, named);
    let result = match xlate(&who, iommu, iommus, &[id], 0, fwspec) {
        Ok(Some(done)) => Ok(done),
        Ok(None) => probe(&who, iommus, fwspec).map(|p| p.unwrap_or(Configured::Translated)),
        Err(e) => Err(e),
    };
    if !matches!(result, Ok(Configured::Translated)) {
        fwspec.clear();
    }
    result.map(|c| (c, Some((target, id))))
}

//! Probe deferral. A master whose IOMMU has no initialised driver yet
//! cannot be configured now; Linux returns `-EPROBE_DEFER` from
//! `of_iommu_configure` and the driver core retries the probe whenever a
//! driver binds, until late init, when `driver_deferred_probe_check_state`
//! gives up and the master runs without its IOMMU. This keeps the masters
//! that wait, in caller storage (no heap), retries them after a late
//! [`iommu_retry`](crate::init::iommu_retry), and says at the end why
//! each one still waits.

use crate::boot::{setup_master, setup_pci, MasterError, MasterSetup};
use crate::configure::ConfigureError;
use crate::decl::DriverError;
use crate::fdt::{DeviceTree, NodeId};
use crate::fwspec::FwSpec;
use crate::init::{IommuState, IommuTable};
use crate::ops::DomainTable;

/// A master (or PCI function) waiting for an IOMMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The master's node; for PCI, the host bridge's.
    pub master: NodeId,
    /// The PCI requester ID, for a function behind `master`.
    pub rid: Option<u32>,
    /// The IOMMU it waits for (the first one not initialised).
    pub iommu: NodeId,
}

impl Waiting {
    pub const EMPTY: Waiting = Waiting {
        master: NodeId(0),
        rid: None,
        iommu: NodeId(0),
    };
}

/// Why a master still waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// No registered driver claims the IOMMU.
    NoDriver,
    /// Its driver's early-init hook failed (last attempt).
    HookFailed(DriverError),
}

impl core::fmt::Display for WaitReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WaitReason::NoDriver => f.write_str("no driver claims its IOMMU"),
            WaitReason::HookFailed(e) => write!(f, "its IOMMU's early init failed: {e}"),
        }
    }
}

/// The outcome of probing one master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// Steps (3) and (4) ran; the fwspec holds the result.
    Configured(MasterSetup),
    /// Recorded as waiting for `iommu`.
    Deferred { iommu: NodeId },
}

/// Why a probe failed outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// Not a deferral: the master's configuration is wrong.
    Master(MasterError),
    /// The master must wait but the list is full.
    Full { capacity: usize },
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProbeError::Master(e) => e.fmt(f),
            ProbeError::Full { capacity } => {
                write!(f, "more than {capacity} masters waiting for their IOMMU")
            }
        }
    }
}

/// The masters waiting for an IOMMU, in the order they first deferred
/// (the order Linux retries its deferred-probe list in).
pub struct Deferred<'s> {
    slots: &'s mut [Waiting],
    len: usize,
}

/// The IOMMU a configure error waits for, if it is a deferral.
fn waits_for(e: &MasterError) -> Option<NodeId> {
    match e {
        MasterError::Configure(ConfigureError::NotInitialised { node }) => Some(*node),
        _ => None,
    }
}

impl<'s> Deferred<'s> {
    /// An empty list holding at most `slots.len()` masters.
    pub fn new(slots: &'s mut [Waiting]) -> Self {
        Deferred { slots, len: 0 }
    }

    /// The masters waiting now.
    pub fn waiting(&self) -> &[Waiting] {
        &self.slots[..self.len]
    }

    fn defer(&mut self, w: Waiting) -> Result<Probe, ProbeError> {
        let capacity = self.slots.len();
        let slot = self
            .slots
            .get_mut(self.len)
            .ok_or(ProbeError::Full { capacity })?;
        *slot = w;
        self.len += 1;
        Ok(Probe::Deferred { iommu: w.iommu })
    }

    /// A probe's outcome: configured, recorded as waiting, or an error.
    fn settle(
        &mut self,
        result: Result<MasterSetup, MasterError>,
        master: NodeId,
        rid: Option<u32>,
    ) -> Result<Probe, ProbeError> {
        match result {
            Ok(s) => Ok(Probe::Configured(s)),
            Err(e) => match waits_for(&e) {
                Some(iommu) => self.defer(Waiting { master, rid, iommu }),
                None => Err(ProbeError::Master(e)),
            },
        }
    }

    /// Steps (3) and (4) for a platform master, or record it as waiting.
    pub fn probe<const IDS: usize, const IOMMUS: usize>(
        &mut self,
        master: crate::fdt::Node<'_>,
        iommus: &IommuTable<'_, '_>,
        fwspec: &mut FwSpec<IDS, IOMMUS>,
        domains: &mut DomainTable<'_>,
    ) -> Result<Probe, ProbeError> {
        let result = setup_master(master, iommus, fwspec, domains);
        self.settle(result, master.id(), None)
    }

    /// [`probe`](Self::probe) for PCI function `rid` behind `host`.
    pub fn probe_pci<const IDS: usize, const IOMMUS: usize>(
        &mut self,
        host: crate::fdt::Node<'_>,
        rid: u32,
        iommus: &IommuTable<'_, '_>,
        fwspec: &mut FwSpec<IDS, IOMMUS>,
        domains: &mut DomainTable<'_>,
    ) -> Result<Probe, ProbeError> {
        let result = setup_pci(host, rid, iommus, fwspec, domains).map(|(s, _)| s);
        self.settle(result, host.id(), Some(rid))
    }

    /// Probe every waiting master again (after IOMMUs came up). `done`
    /// gets each one that no longer waits, with its outcome (the fwspec
    /// holds a success's IDs during the call); the rest stay, in order,
    /// each now waiting for the IOMMU it waits for now. A master whose node
    /// is gone from `tree` is dropped with nothing reported.
    pub fn retry<const IDS: usize, const IOMMUS: usize>(
        &mut self,
        tree: &DeviceTree<'_>,
        iommus: &IommuTable<'_, '_>,
        fwspec: &mut FwSpec<IDS, IOMMUS>,
        domains: &mut DomainTable<'_>,
        mut done: impl FnMut(Waiting, Result<MasterSetup, MasterError>, &FwSpec<IDS, IOMMUS>),
    ) {
        let mut kept = 0;
        for i in 0..self.len {
            let w = self.slots[i];
            let Some(node) = tree.node(w.master) else {
                continue;
            };
            let result = match w.rid {
                None => setup_master(node, iommus, fwspec, domains),
                Some(rid) => setup_pci(node, rid, iommus, fwspec, domains).map(|(s, _)| s),
            };
            match result.as_ref().err().and_then(waits_for) {
                Some(iommu) => {
                    self.slots[kept] = Waiting { iommu, ..w };
                    kept += 1;
                }
                None => done(w, result, fwspec),
            }
        }
        self.len = kept;
    }

    /// Every master still waiting and why (what Linux reports when it
    /// stops deferring at late init).
    pub fn why<'a>(
        &'a self,
        iommus: &'a IommuTable<'_, '_>,
    ) -> impl Iterator<Item = (Waiting, WaitReason)> + 'a {
        self.waiting().iter().map(move |w| {
            let reason = match iommus.get(w.iommu).map(|r| r.state) {
                Some(IommuState::Failed { error, .. }) => WaitReason::HookFailed(error),
                _ => WaitReason::NoDriver,
            };
            (*w, reason)
        })
    }
}

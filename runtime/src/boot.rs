//! The whole flow for one master, as a kernel (or `iommugen dt`) runs it:
//! step (3) then step (4). Kept here so every caller runs the same code.

use crate::configure::{of_iommu_configure, of_pci_iommu_configure, ConfigureError, Configured};
use crate::fdt::{Node, NodeId};
use crate::fwspec::FwSpec;
use crate::init::IommuTable;
use crate::ops::{arch_setup_dma_ops, DmaConfig, DomainTable, SetupError};

/// Why a master ended up without DMA ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterError {
    Configure(ConfigureError),
    Setup(SetupError),
}

impl core::fmt::Display for MasterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MasterError::Configure(e) => e.fmt(f),
            MasterError::Setup(e) => e.fmt(f),
        }
    }
}

/// What one master got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterSetup {
    pub configured: Configured,
    pub dma: DmaConfig,
}

/// Masters: nodes that name IOMMUs through `iommus`.
pub fn is_master(node: Node<'_>) -> bool {
    node.has_property("iommus")
}

/// Steps (3) and (4) for a platform master. The fwspec holds the result.
pub fn setup_master<const IDS: usize, const IOMMUS: usize>(
    master: Node<'_>,
    iommus: &IommuTable<'_, '_>,
    fwspec: &mut FwSpec<IDS, IOMMUS>,
    domains: &mut DomainTable<'_>,
) -> Result<MasterSetup, MasterError> {
    let configured = of_iommu_configure(master, iommus, fwspec).map_err(MasterError::Configure)?;
    let dma = arch_setup_dma_ops(master, fwspec, iommus, domains).map_err(MasterError::Setup)?;
    Ok(MasterSetup { configured, dma })
}

/// Steps (3) and (4) for PCI function `rid` behind host bridge `host`
/// (the bridge's node stands in for the function's DMA facts, as the
/// function has no node of its own). Also returns the mapped (IOMMU, ID).
pub fn setup_pci<const IDS: usize, const IOMMUS: usize>(
    host: Node<'_>,
    rid: u32,
    iommus: &IommuTable<'_, '_>,
    fwspec: &mut FwSpec<IDS, IOMMUS>,
    domains: &mut DomainTable<'_>,
) -> Result<(MasterSetup, Option<(NodeId, u32)>), MasterError> {
    let (configured, mapped) =
        of_pci_iommu_configure(host, rid, iommus, fwspec).map_err(MasterError::Configure)?;
    let dma = crate::ops::arch_setup_pci_dma_ops(host, rid, fwspec, iommus, domains)
        .map_err(MasterError::Setup)?;
    Ok((MasterSetup { configured, dma }, mapped))
}

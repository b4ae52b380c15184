//! The seed's steps as both QEMU kernels run them on their tree, with the
//! log lines the tests read: (2) report what `iommu_init` made of every
//! IOMMU node, (3) and (4) attach one PCI function. The virtio-iommu
//! kernel includes this file by path.

use iommugen_runtime::boot::{setup_pci, MasterSetup};
use iommugen_runtime::fdt::{DeviceTree, Node, NodeId};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{IommuState, IommuTable};
use iommugen_runtime::ops::{DmaOps, DomainId, DomainTable};

use crate::println;

/// A node, printed as its path.
pub struct PathOf<'a>(pub Node<'a>);

impl core::fmt::Display for PathOf<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.write_path(f)
    }
}

/// Print each IOMMU node's state after `iommu_init`; an early-init hook
/// that failed is the boot's failure (`hook_failed`).
pub fn report_iommus(
    dt: &DeviceTree<'_>,
    iommus: &IommuTable<'_, '_>,
    hook_failed: &'static str,
) -> Result<(), &'static str> {
    for r in iommus.records() {
        let node = dt.node(r.node).ok_or("bad node id")?;
        match r.state {
            IommuState::Initialised { decl, data } => println!(
                "iommu_init: {} claimed by {} (instance {})",
                PathOf(node),
                decl.driver.name(),
                data.0
            ),
            IommuState::Failed { decl, error } => {
                println!(
                    "iommu_init: {} ({}) FAILED: {error}",
                    PathOf(node),
                    decl.driver.name()
                );
                return Err(hook_failed);
            }
            IommuState::Disabled { .. } => println!("iommu_init: {} disabled", PathOf(node)),
            IommuState::Unclaimed => println!("iommu_init: {} unclaimed", PathOf(node)),
        }
    }
    Ok(())
}

/// A PCI function after steps (3) and (4): its DMA setup, the IOMMU its
/// requester ID maps to and the ID there, and its domain's IOVA window.
pub struct Attached {
    pub setup: MasterSetup,
    pub iommu: NodeId,
    pub id: u32,
    pub domain: DomainId,
    pub iova_base: u64,
    pub iova_last: u64,
}

/// `of_pci_iommu_configure` and `arch_setup_dma_ops` for requester `rid`
/// under `host`; `id_name` names the ID in the log (StreamID, endpoint).
pub fn attach_pci(
    dt: &DeviceTree<'_>,
    host: Node<'_>,
    rid: u32,
    iommus: &IommuTable<'_, '_>,
    fwspec: &mut FwSpec<4, 2>,
    domains: &mut DomainTable<'_>,
    id_name: &str,
) -> Result<Attached, &'static str> {
    let (setup, mapped) = setup_pci(host, rid, iommus, fwspec, domains).map_err(|e| {
        println!("setup_pci: {e}");
        "of_pci_iommu_configure / arch_setup_dma_ops failed"
    })?;
    let (iommu, id) = mapped.ok_or("no iommu-map entry for the function")?;
    println!(
        "of_pci_iommu_configure: rid {rid:#x} -> {} {id_name} {id:#x} ({:?})",
        PathOf(dt.node(iommu).ok_or("bad node id")?),
        setup.configured
    );
    let DmaOps::Iommu {
        domain,
        iova_base,
        iova_last,
    } = setup.dma.ops
    else {
        return Err("the function got direct DMA ops, not the IOMMU's");
    };
    println!(
        "arch_setup_dma_ops: coherent={} mask={:#x} ops=iommu domain {} IOVA {iova_base:#x}..={iova_last:#x}",
        setup.dma.coherent, setup.dma.mask, domain.0
    );
    Ok(Attached {
        setup,
        iommu,
        id,
        domain,
        iova_base,
        iova_last,
    })
}

//! The SMMUv3 driver as the boot flow sees it: one declaration-table row
//! and an `IommuDriver`.
//!
//! TEMPORARY, hand-written: this is exactly what the generator (issue 4)
//! must emit from `examples/arm-smmu-v3.iommu` (compatible "arm,smmu-v3",
//! one cell = stream_id, `check stream_id < 1 << 20`, PCI through
//! `iommu-map`, per-instance domains, aperture 0x1000_0000..0x1_0000_0000,
//! 4K granule, init `crate::smmu::probe`). When the generated module
//! exists, this file is replaced by an `include!` of it.

use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::IdSink;

pub struct ArmSmmuV3;

impl IommuDriver for ArmSmmuV3 {
    fn name(&self) -> &str {
        "arm_smmu_v3"
    }

    fn info(&self) -> DriverInfo {
        DriverInfo {
            domain: DomainPolicy::PerInstance,
            aperture_base: 0x1000_0000,
            aperture_size: 0x1_0000_0000 - 0x1000_0000,
            pci: true,
            granule: 4096,
        }
    }

    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError> {
        crate::smmu::probe(node)
    }

    fn of_xlate(
        &self,
        _iommu: Node<'_>,
        _data: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        let [stream_id] = args else {
            return Err(DriverError::WrongCellCount {
                got: args.len() as u32,
            });
        };
        if *stream_id >= 1 << 20 {
            return Err(DriverError::CheckFailed { check: 0 });
        }
        ids.push(*stream_id)?;
        Ok(())
    }
}

/// The declaration table (seed step 1).
pub static DECLARATIONS: &[Declaration<'static>] = &[Declaration {
    compatible: "arm,smmu-v3",
    driver: &ArmSmmuV3,
}];

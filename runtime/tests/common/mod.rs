//! Shared test drivers and harness. The drivers are written by hand from
//! the Linux bindings (Documentation/devicetree/bindings/iommu/), not from
//! any spec, so they check the runtime independently of the DSL.
#![allow(dead_code)]

use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::IdSink;
use iommugen_runtime::init::{iommu_init, IommuRecord, IommuTable};

pub fn info(domain: DomainPolicy, pci: bool) -> DriverInfo {
    DriverInfo {
        domain,
        aperture_base: 0,
        aperture_size: 1 << 48,
        pci,
        granule: 4096,
        identity_default: false,
        shared_domains: false,
    }
}

/// arm,smmu (arm-smmu.yaml): one cell = stream ID (SMR ID, bits 15:0) with
/// the mask from `stream-match-mask`, or two cells = stream ID and mask;
/// Linux stores `mask << 16 | id`.
pub struct ArmSmmu;
impl IommuDriver for ArmSmmu {
    fn name(&self) -> &str {
        "arm_smmu"
    }
    fn info(&self) -> DriverInfo {
        info(DomainPolicy::PerInstance, true)
    }
    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError> {
        match node.u32_property("#iommu-cells") {
            Some(1 | 2) => Ok(InstanceData(node.id().0 as usize)),
            got => Err(DriverError::WrongCellCount {
                got: got.unwrap_or(0),
            }),
        }
    }
    fn of_xlate(
        &self,
        _master: &iommugen_runtime::master::Master<'_>,
        iommu: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        let (sid, mask) = match args {
            [sid] => (*sid, iommu.u32_property("stream-match-mask").unwrap_or(0)),
            [sid, mask] => (*sid, *mask),
            _ => {
                return Err(DriverError::WrongCellCount {
                    got: args.len() as u32,
                })
            }
        };
        if sid > 0xffff || mask > 0xffff {
            return Err(DriverError::CheckFailed { check: 0 });
        }
        ids.push(mask << 16 | sid)?;
        Ok(())
    }
}

/// arm,smmu-v3: one cell, the StreamID.
pub struct SmmuV3;
impl IommuDriver for SmmuV3 {
    fn name(&self) -> &str {
        "arm_smmu_v3"
    }
    fn info(&self) -> DriverInfo {
        info(DomainPolicy::PerDevice, true)
    }
    fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(0))
    }
    fn of_xlate(
        &self,
        _master: &iommugen_runtime::master::Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        match args {
            [sid] => Ok(ids.push(*sid)?),
            _ => Err(DriverError::WrongCellCount {
                got: args.len() as u32,
            }),
        }
    }
}

/// rockchip,iommu: zero cells, the master is known by the phandle alone.
pub struct Rockchip;
impl IommuDriver for Rockchip {
    fn name(&self) -> &str {
        "rockchip_iommu"
    }
    fn info(&self) -> DriverInfo {
        DriverInfo {
            aperture_size: 1 << 32,
            ..info(DomainPolicy::PerInstance, false)
        }
    }
    fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(7))
    }
    fn of_xlate(
        &self,
        _master: &iommugen_runtime::master::Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        _: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        if args.is_empty() {
            Ok(())
        } else {
            Err(DriverError::WrongCellCount {
                got: args.len() as u32,
            })
        }
    }
}

/// A driver whose hardware never comes up.
pub struct Broken;
impl IommuDriver for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn info(&self) -> DriverInfo {
        info(DomainPolicy::PerInstance, false)
    }
    fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> {
        Err(DriverError::Other("no response from the hardware"))
    }
    fn of_xlate(
        &self,
        _master: &iommugen_runtime::master::Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        _: &[u32],
        _: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        Err(DriverError::Other("unreachable"))
    }
}

pub static TABLE: &[Declaration<'static>] = &[
    Declaration {
        compatible: "arm,mmu-401",
        driver: &ArmSmmu,
    },
    Declaration {
        compatible: "arm,mmu-500",
        driver: &ArmSmmu,
    },
    Declaration {
        compatible: "arm,smmu-v3",
        driver: &SmmuV3,
    },
    Declaration {
        compatible: "rockchip,iommu",
        driver: &Rockchip,
    },
    Declaration {
        compatible: "acme,broken-iommu",
        driver: &Broken,
    },
];

/// Index `blob` with exactly-sized storage and run `f` on the tree.
pub fn with_tree<R>(blob: &[u8], f: impl FnOnce(DeviceTree<'_>) -> R) -> R {
    let fdt = Fdt::new(blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    f(tree)
}

/// Index and run `iommu_init` with [`TABLE`], then `f`.
pub fn with_booted<R>(blob: &[u8], f: impl FnOnce(DeviceTree<'_>, IommuTable<'_, '_>) -> R) -> R {
    with_tree(blob, |tree| {
        let mut records = vec![IommuRecord::EMPTY; tree.len()];
        let table = iommu_init(&tree, &[TABLE], &mut records).unwrap();
        f(tree, table)
    })
}

/// A tiny DSL over vm-fdt for building test trees.
pub struct TreeBuilder {
    pub w: vm_fdt::FdtWriter,
    stack: Vec<vm_fdt::FdtWriterNode>,
}

impl TreeBuilder {
    pub fn new() -> Self {
        let mut w = vm_fdt::FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        TreeBuilder {
            w,
            stack: vec![root],
        }
    }
    pub fn begin(&mut self, name: &str) -> &mut Self {
        let n = self.w.begin_node(name).unwrap();
        self.stack.push(n);
        self
    }
    pub fn end(&mut self) -> &mut Self {
        let n = self.stack.pop().unwrap();
        self.w.end_node(n).unwrap();
        self
    }
    pub fn u32(&mut self, name: &str, v: u32) -> &mut Self {
        self.w.property_u32(name, v).unwrap();
        self
    }
    pub fn cells(&mut self, name: &str, v: &[u32]) -> &mut Self {
        self.w.property_array_u32(name, v).unwrap();
        self
    }
    pub fn str(&mut self, name: &str, v: &str) -> &mut Self {
        self.w.property_string(name, v).unwrap();
        self
    }
    pub fn strs(&mut self, name: &str, v: &[&str]) -> &mut Self {
        self.w
            .property_string_list(name, v.iter().map(|s| s.to_string()).collect())
            .unwrap();
        self
    }
    pub fn flag(&mut self, name: &str) -> &mut Self {
        self.w.property_null(name).unwrap();
        self
    }
    pub fn raw(&mut self, name: &str, v: &[u8]) -> &mut Self {
        self.w.property(name, v).unwrap();
        self
    }
    pub fn finish(mut self) -> Vec<u8> {
        while let Some(n) = self.stack.pop() {
            self.w.end_node(n).unwrap();
        }
        self.w.finish().unwrap()
    }
}

//! The virtio-iommu early-init hook (`init crate::virtio_iommu::probe` in
//! the spec): find the PCI function the node describes, give its BARs
//! addresses in the host bridge's window, enable it, walk its virtio-pci
//! capabilities and bring the device up with the runtime's driver. The
//! one instance lives here; the boot flow keeps only its index.

use core::cell::RefCell;

use iommugen_runtime::decl::{DriverError, InstanceData};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::virtio::pci::{self, ConfigSpace, Layout, Window};
use iommugen_runtime::virtio::{DmaRegion, Mmio, Options, Regions, VirtioIommu};

use crate::global::Global;
use crate::pci::{Bdf, HostBridge};
use crate::println;

pub type Driver = VirtioIommu<'static, Mmio>;
pub type Instance = RefCell<Driver>;

static INSTANCE: Global<Option<Instance>> = Global::new(None);
static READY: Global<Option<&'static Instance>> = Global::new(None);
/// The first free address of the bridge's 32-bit window after the
/// virtio-iommu's BARs (the edu's BAR goes there).
pub static NEXT_MMIO: Global<u64> = Global::new(0);

/// One function's configuration space through the bridge's ECAM.
pub struct Cfg {
    pub bridge: HostBridge,
    pub bdf: Bdf,
}

impl ConfigSpace for Cfg {
    fn read32(&self, offset: u16) -> u32 {
        self.bridge.read32(self.bdf, usize::from(offset & 0xffc))
    }
    fn write32(&mut self, offset: u16, value: u32) {
        self.bridge
            .write32(self.bdf, usize::from(offset & 0xffc), value)
    }
}

/// The instance behind `data` (the boot flow's `of_iommu_get_data`).
pub fn instance(data: InstanceData) -> Option<&'static Instance> {
    READY.with(|r| if data.0 == 0 { *r } else { None })
}

fn window(bars: &[u64; 6], w: Window) -> Mmio {
    let base = bars[usize::from(w.bar)] + u64::from(w.offset);
    // SAFETY: `w` lies in a BAR the hook just placed in the bridge's MMIO
    // window (boot map: Device memory); only this driver uses it.
    unsafe { Mmio::new(base as usize, w.length as usize) }
}

pub fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
    let err = DriverError::Other;
    if READY.with(|r| r.is_some()) {
        return Err(err("this kernel drives one virtio-iommu"));
    }
    // reg's first cell: bus in 23:16, device/function in 15:8.
    let hi = node
        .property("reg")
        .and_then(|p| p.cells())
        .and_then(|c| c.get(0))
        .ok_or(err("no reg"))?;
    let bdf = Bdf {
        bus: (hi >> 16) as u8,
        dev: ((hi >> 11) & 0x1f) as u8,
        func: ((hi >> 8) & 7) as u8,
    };
    let bridge = node
        .parent()
        .and_then(HostBridge::from_node)
        .ok_or(err("parent is no ECAM host bridge with a 32-bit window"))?;
    let mut cfg = Cfg { bridge, bdf };
    let id = cfg.read32(0);
    let layout = Layout::find(&cfg).map_err(|e| {
        println!("virtio-iommu at {bdf}: {e}");
        err("no virtio-pci transport")
    })?;
    // Place every BAR the structures use, from the bottom of the window.
    let mut bars = [0u64; 6];
    let mut next = bridge.mmio32;
    let end = bridge.mmio32 + bridge.mmio32_size;
    for i in 0..6u8 {
        if layout.bars() & 1 << i != 0 {
            let (base, size) = pci::place_bar(&mut cfg, i, next, end).map_err(|e| {
                println!("virtio-iommu at {bdf}: {e}");
                err("cannot place the virtio-iommu's BARs")
            })?;
            println!("pci: virtio-iommu {id:#010x} at {bdf}: BAR{i} {base:#x} ({size:#x} bytes)");
            bars[usize::from(i)] = base;
            next = base + size;
        }
    }
    NEXT_MMIO.with(|n| *n = next);
    pci::enable(&mut cfg);
    let regions = Regions {
        common: window(&bars, layout.common),
        notify: window(&bars, layout.notify),
        notify_multiplier: layout.notify_multiplier,
        notify_length: layout.notify.length,
        device: window(&bars, layout.device),
    };
    let memory = crate::BUMP
        .with(|b| b.slice::<u8>(iommugen_runtime::virtio::driver::memory_bytes(512), 4096))
        .and_then(DmaRegion::identity)
        .ok_or(err("no RAM for the virtqueues"))?;
    let driver = VirtioIommu::new(regions, memory, Options::default()).map_err(|e| {
        println!("virtio-iommu at {bdf}: bring-up failed: {e}");
        err("virtio-iommu bring-up failed")
    })?;
    let c = *driver.config();
    println!(
        "virtio-iommu at {bdf}: features {:#x}, page sizes {:#x}, input range {:#x}..={:#x}, domains {}..={}, probe size {}",
        c.features, c.page_size_mask, c.input_start, c.input_end, c.domain_start, c.domain_end, c.probe_size
    );
    // SAFETY: the hook runs once (one virtio-iommu node); the slot is
    // handed over here and never touched through INSTANCE again.
    let slot = unsafe { INSTANCE.leak() };
    let inst: &'static Instance = slot.insert(RefCell::new(driver));
    READY.with(|r| *r = Some(inst));
    Ok(InstanceData(0))
}

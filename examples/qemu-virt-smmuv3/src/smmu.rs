//! The SMMUv3 early-init hook (`init crate::smmu::probe` in the spec): probe
//! the ID registers, size the stream table from the IDRs and the tree,
//! allocate the tables and queues, and enable the SMMU with the runtime's
//! driver. Instances live here; the boot flow keeps only their index.

use core::cell::RefCell;

use iommugen_runtime::decl::{DriverError, InstanceData};
use iommugen_runtime::fdt::{DeviceTree, Node};
use iommugen_runtime::smmuv3::driver::{read_features, Options};
use iommugen_runtime::smmuv3::regs::FRAME_SIZE;
use iommugen_runtime::smmuv3::{DmaSlice, Memory, Mmio, Smmuv3, StreamTableSize};

use crate::global::Global;
use crate::println;

pub type Instance = RefCell<Smmuv3<'static, Mmio>>;

const MAX_INSTANCES: usize = 2;
const CMDQ_LOG2: u8 = 8;
const EVTQ_LOG2: u8 = 10;

static INSTANCES: Global<[Option<&'static Instance>; MAX_INSTANCES]> =
    Global::new([None; MAX_INSTANCES]);
static STORAGE: Global<[Option<Instance>; MAX_INSTANCES]> = Global::new([None, None]);

/// The instance behind `data` (the boot flow's `of_iommu_get_data`).
pub fn instance(data: InstanceData) -> Option<&'static Instance> {
    INSTANCES.with(|i| i.get(data.0).copied().flatten())
}

/// The largest StreamID any master in the tree can present to the SMMU at
/// `node`: `iommus` specifiers naming it and `iommu-map` entries mapping to
/// it. `None` when no master uses it.
pub fn max_stream_id(tree: &DeviceTree<'_>, node: Node<'_>) -> Option<u32> {
    let me = node.u32_property("phandle")?;
    let mut max: Option<u32> = None;
    let mut see = |id: u32| max = Some(max.map_or(id, |m| m.max(id)));
    for n in tree.nodes() {
        if let Some(map) = n.property("iommu-map").and_then(|p| p.cells()) {
            // (rid-base, phandle, sid-base, length), one specifier cell.
            let mut rest = map;
            while let Some((e, tail)) = rest.split(4) {
                if e.get(1) == Some(me) && e.get(3).unwrap_or(0) > 0 {
                    let (base, len) = (e.get(2).unwrap_or(0), e.get(3).unwrap_or(1));
                    see(base.saturating_add(len - 1));
                }
                rest = tail;
            }
        }
        if let Some(iommus) = n.property("iommus").and_then(|p| p.cells()) {
            let mut rest = iommus;
            while let Some(ph) = rest.get(0) {
                let cells = tree
                    .by_phandle(ph)
                    .ok()
                    .and_then(|t| t.u32_property("#iommu-cells"))
                    .unwrap_or(0) as usize;
                if ph == me && cells == 1 {
                    if let Some(id) = rest.get(1) {
                        see(id);
                    }
                }
                match rest.split(1 + cells) {
                    Some((_, tail)) => rest = tail,
                    None => break,
                }
            }
        }
    }
    max
}

pub fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
    let reg = node
        .property("reg")
        .and_then(|p| p.cells())
        .and_then(|c| c.split(2))
        .map(|(base, _)| base.number())
        .ok_or(DriverError::Other("no reg"))?;
    let coherent = node.has_property("dma-coherent");
    // SAFETY: `reg` is this SMMU's 128 KiB register frame, identity-mapped
    // as Device memory by the boot map, and only this instance touches it.
    let regs = unsafe { Mmio::new(reg as usize, FRAME_SIZE) };
    let f = read_features(&regs);
    println!(
        "smmuv3@{reg:#x}: stage1={} stage2={} sid_bits={} oas={} granules 4K={} 16K={} 64K={} cmdq<=2^{} evtq<=2^{} range_inval={} coherent={}",
        f.stage1, f.stage2, f.sid_bits, f.oas_bits, f.granules.g4k, f.granules.g16k, f.granules.g64k,
        f.cmdq_max_log2, f.evtq_max_log2, f.range_invalidation, f.coherent && coherent,
    );
    if !f.granules.g4k {
        return Err(DriverError::Other(
            "no 4K granule (the spec's page-table format)",
        ));
    }
    let max_sid = max_stream_id(&node.tree(), node).unwrap_or(0);
    let strtab = StreamTableSize::for_max_stream_id(&f, max_sid);
    let cmdq_log2 = CMDQ_LOG2.min(f.cmdq_max_log2);
    let evtq_log2 = EVTQ_LOG2.min(f.evtq_max_log2);
    let memory = crate::BUMP
        .with(|b| {
            Some(Memory {
                stream_table: DmaSlice::identity(b.slice(strtab.entries(), strtab.bytes() as u64)?),
                cmdq: DmaSlice::identity(b.slice(1 << cmdq_log2, 16u64 << cmdq_log2)?),
                evtq: DmaSlice::identity(b.slice(1 << evtq_log2, 32u64 << evtq_log2)?),
            })
        })
        .ok_or(DriverError::Other("no RAM for the SMMU's tables"))?;
    let options = Options {
        coherent,
        ..Options::default()
    };
    let smmu = Smmuv3::enable(regs, f, memory, options).map_err(|e| {
        println!("smmuv3@{reg:#x}: enable failed: {e}");
        DriverError::Other("SMMUv3 bring-up failed")
    })?;
    println!(
        "smmuv3@{reg:#x}: enabled: max StreamID in the tree {max_sid:#x} -> linear stream table 2^{} STEs ({} KiB), cmdq 2^{cmdq_log2}, evtq 2^{evtq_log2}; CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC done",
        strtab.log2_entries,
        strtab.bytes() / 1024,
    );
    let index = STORAGE.with(|s| {
        let i = s.iter().position(|x| x.is_none())?;
        s[i] = Some(RefCell::new(smmu));
        // SAFETY: the slot is never written again, so a shared reference to
        // it lives as long as the static.
        let r: &'static Instance = unsafe { &*(s[i].as_ref()? as *const Instance) };
        INSTANCES.with(|t| t[i] = Some(r));
        Some(i)
    });
    index
        .map(InstanceData)
        .ok_or(DriverError::Other("too many SMMUv3 instances"))
}

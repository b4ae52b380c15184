//! The SMMUv3 early-init hook (`init crate::smmu::probe` in the spec): probe
//! the ID registers, size the stream table from the IDRs and the tree,
//! allocate the tables and queues, and enable the SMMU with the runtime's
//! driver. Instances live here; the boot flow keeps only their index.

use core::cell::RefCell;

use iommugen_runtime::decl::{DriverError, InstanceData};
use iommugen_runtime::fdt::{DeviceTree, Node};
use iommugen_runtime::smmuv3::driver::{read_features, Options};
use iommugen_runtime::smmuv3::regs::FRAME_SIZE;
use iommugen_runtime::smmuv3::{
    DmaSlice, Memory, Mmio, Smmuv3, Ste, StreamTable, StreamTableLayout, TwoLevel,
};

use crate::global::Global;
use crate::println;

pub type Instance = RefCell<Smmuv3<'static, Mmio>>;

const MAX_INSTANCES: usize = 2;
const CMDQ_LOG2: u8 = 8;
const EVTQ_LOG2: u8 = 10;

static INSTANCES: Global<[Option<&'static Instance>; MAX_INSTANCES]> =
    Global::new([None; MAX_INSTANCES]);
static STORAGE: Global<[Option<Instance>; MAX_INSTANCES]> = Global::new([None, None]);

/// Most level-1 descriptors of a two-level stream table (2^12: StreamIDs of
/// up to 20 bits with SPLIT 8).
const MAX_L1: usize = 1 << 12;
type L2Slots = [Option<DmaSlice<'static, Ste>>; MAX_L1];
/// Per instance: the level-2 arrays installed so far.
static L2_SLOTS: [Global<L2Slots>; MAX_INSTANCES] = [
    Global::new([const { None }; MAX_L1]),
    Global::new([const { None }; MAX_L1]),
];

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
    let index = STORAGE
        .with(|s| s.iter().position(|x| x.is_none()))
        .ok_or(DriverError::Other("too many SMMUv3 instances"))?;
    let max_sid = max_stream_id(&node.tree(), node).unwrap_or(0);
    let layout = StreamTableLayout::choose(&f, max_sid);
    let cmdq_log2 = CMDQ_LOG2.min(f.cmdq_max_log2);
    let evtq_log2 = EVTQ_LOG2.min(f.evtq_max_log2);
    let no_ram = DriverError::Other("no RAM for the SMMU's tables");
    let stream_table = match layout {
        StreamTableLayout::Linear { log2_entries } => StreamTable::Linear(DmaSlice::identity(
            crate::BUMP
                .with(|b| b.slice(1 << log2_entries, 64 << log2_entries))
                .ok_or(no_ram)?,
        )),
        StreamTableLayout::TwoLevel { split, .. } => {
            let n = layout.top_entries();
            if n > MAX_L1 {
                return Err(DriverError::Other("more level-1 descriptors than slots"));
            }
            let l1 = crate::BUMP
                .with(|b| b.slice::<u64>(n, layout.top_bytes() as u64))
                .ok_or(no_ram)?;
            // SAFETY: instance `index` is being created now, once; its slots
            // are handed to its driver and never touched here again.
            let slots = unsafe { L2_SLOTS[index].leak() };
            let table = TwoLevel::new(DmaSlice::identity(l1), split, &mut slots[..n])
                .map_err(|_| DriverError::Other("bad two-level stream table"))?;
            StreamTable::TwoLevel(table)
        }
    };
    let memory = crate::BUMP
        .with(|b| {
            Some(Memory {
                stream_table,
                cmdq: DmaSlice::identity(b.slice(1 << cmdq_log2, 16u64 << cmdq_log2)?),
                evtq: DmaSlice::identity(b.slice(1 << evtq_log2, 32u64 << evtq_log2)?),
            })
        })
        .ok_or(no_ram)?;
    let options = Options {
        coherent,
        ..Options::default()
    };
    let smmu = Smmuv3::enable(regs, f, memory, options).map_err(|e| {
        println!("smmuv3@{reg:#x}: enable failed: {e}");
        DriverError::Other("SMMUv3 bring-up failed")
    })?;
    match layout {
        StreamTableLayout::Linear { log2_entries } => println!(
            "smmuv3@{reg:#x}: enabled: max StreamID in the tree {max_sid:#x} -> linear stream table of 2^{log2_entries} STEs ({} KiB), cmdq 2^{cmdq_log2}, evtq 2^{evtq_log2}; CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC done",
            layout.top_bytes() / 1024
        ),
        StreamTableLayout::TwoLevel { log2_entries, split } => println!(
            "smmuv3@{reg:#x}: enabled: max StreamID in the tree {max_sid:#x} -> two-level stream table for 2^{log2_entries} StreamIDs ({} level-1 descriptors, {} KiB; level-2 arrays of 2^{split} STEs on demand), cmdq 2^{cmdq_log2}, evtq 2^{evtq_log2}; CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC done",
            layout.top_entries(),
            layout.top_bytes() / 1024
        ),
    }
    let index = STORAGE.with(|s| {
        let i = index;
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

/// Makes sure `sid` has an STE: for a two-level stream table, allocates and
/// installs the level-2 array of its group the first time.
pub fn prepare_stream(smmu: &Instance, sid: u32) -> Result<(), &'static str> {
    let Some(n) = smmu.borrow().level2_needed(sid) else {
        return Ok(());
    };
    let bytes = (n * core::mem::size_of::<Ste>()) as u64;
    let array = crate::BUMP
        .with(|b| b.slice::<Ste>(n, bytes))
        .ok_or("no RAM for a level-2 stream table")?;
    let array = DmaSlice::identity(array);
    let at = array.phys();
    smmu.borrow_mut().install_l2(sid, array).map_err(|e| {
        println!("smmuv3: level-2 install failed: {e}");
        "installing a level-2 stream table failed"
    })?;
    let first = sid & !(n as u32 - 1);
    println!(
        "smmuv3: level-2 stream table for StreamIDs {first:#x}..={:#x} at {at:#x} ({} KiB)",
        first + n as u32 - 1,
        bytes / 1024
    );
    Ok(())
}

//! Boot-flow benchmark: a generated tree of N masters behind 64 IOMMUs;
//! time to index the tree, run `iommu_init`, and configure every master
//! (of_iommu_configure + arch_setup_dma_ops). Compare N = 10,000 and
//! 100,000 for linear growth. `nested`: N masters each nested in the
//! previous (every one a bus with `dma-ranges`), configured over
//! `dma::DmaFacts`; compare N = 20,000 and 200,000. `grouped`: the first
//! tree with a driver of 32 groups (`domain per-group`, a master's group
//! from its stream ID), so every master looks its group's domain up along
//! its instance's chain: compare with `masters` at the same N.

#[path = "../tests/raw/mod.rs"]
mod raw;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iommugen_runtime::boot::{is_master, setup_master};
use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, GroupInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::dma::{DmaFacts, NodeDma};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::{FwSpec, IdSink};
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::ops::{DomainInfo, DomainTable};

struct OneCell;
impl IommuDriver for OneCell {
    fn name(&self) -> &str {
        "one_cell"
    }
    fn info(&self) -> DriverInfo {
        DriverInfo {
            domain: DomainPolicy::PerInstance,
            aperture_base: 0,
            aperture_size: 1 << 48,
            pci: true,
            granule: 4096,
            identity_default: false,
            shared_domains: false,
        }
    }
    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(node.id().0 as usize))
    }
    fn of_xlate(
        &self,
        _master: &iommugen_runtime::master::Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        one_stream_id(args, ids, |_| 0)
    }
}

/// The one cell as the stream ID, in the groups `groups` gives it.
fn one_stream_id(
    args: &[u32],
    ids: &mut IdSink<'_>,
    groups: impl Fn(u32) -> u32,
) -> Result<(), DriverError> {
    match args {
        [sid] => Ok(ids.push_in(*sid, groups(*sid))?),
        _ => Err(DriverError::WrongCellCount {
            got: args.len() as u32,
        }),
    }
}

static TABLE: &[Declaration<'static>] = &[Declaration {
    compatible: "arm,smmu-v3",
    driver: &OneCell,
}];

/// `OneCell` with 32 groups: stream ID `s` is in group `s % 32`.
struct Grouped;
impl IommuDriver for Grouped {
    fn name(&self) -> &str {
        "grouped"
    }
    fn info(&self) -> DriverInfo {
        DriverInfo {
            domain: DomainPolicy::PerGroup,
            ..OneCell.info()
        }
    }
    fn group(&self, index: u32) -> Option<GroupInfo<'_>> {
        (index < 32).then_some(GroupInfo {
            name: "g",
            aperture_base: u64::from(index) << 32,
            aperture_size: 1 << 32,
        })
    }
    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError> {
        OneCell.init(node)
    }
    fn of_xlate(
        &self,
        _master: &iommugen_runtime::master::Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        one_stream_id(args, ids, |sid| 1 << (sid % 32))
    }
}

static GROUPED: &[Declaration<'static>] = &[Declaration {
    compatible: "arm,smmu-v3",
    driver: &Grouped,
}];

const IOMMUS: u32 = 64;

fn tree(masters: u32) -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    let soc = w.begin_node("soc").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    w.property_array_u32("dma-ranges", &[0, 0, 0, 0, 0x100, 0])
        .unwrap();
    for i in 0..IOMMUS {
        let n = w
            .begin_node(&format!("iommu@{:x}", 0x1000_0000 + i * 0x10_0000))
            .unwrap();
        w.property_string("compatible", "arm,smmu-v3").unwrap();
        w.property_u32("#iommu-cells", 1).unwrap();
        w.property_phandle(i + 1).unwrap();
        w.end_node(n).unwrap();
    }
    for m in 0..masters {
        let n = w.begin_node(&format!("dev@{m:x}")).unwrap();
        w.property_string("compatible", "acme,dma-master").unwrap();
        w.property_array_u32("iommus", &[1 + m % IOMMUS, m])
            .unwrap();
        if m % 2 == 0 {
            w.property_null("dma-coherent").unwrap();
        }
        w.end_node(n).unwrap();
    }
    w.end_node(soc).unwrap();
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

/// The whole boot: index, init, configure every master. Returns the number
/// of masters configured (so the work cannot be optimised away).
fn boot(blob: &[u8]) -> usize {
    boot_with(blob, TABLE, IOMMUS as usize)
}

/// [`boot`] with the drivers of `table` and room for `domains` domains.
fn boot_with(blob: &[u8], table: &[Declaration<'static>], domains: usize) -> usize {
    let fdt = Fdt::new(blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    let mut records = vec![IommuRecord::EMPTY; IOMMUS as usize];
    let table = iommu_init(&tree, &[table], &mut records).unwrap();
    let mut domains = vec![DomainInfo::EMPTY; domains];
    let mut per = vec![0; table.records().len()];
    let mut domains = DomainTable::new(&mut domains, &mut per);
    let mut fw = FwSpec::<8, 2>::new();
    let mut ok = 0;
    for node in tree.nodes() {
        if is_master(node) && setup_master(node, &table, &mut fw, &mut domains).is_ok() {
            ok += 1;
        }
    }
    ok
}

fn bench_boot(c: &mut Criterion) {
    let mut g = c.benchmark_group("boot_flow");
    g.sample_size(10);
    for masters in [10_000u32, 100_000] {
        let blob = tree(masters);
        assert_eq!(boot(&blob), masters as usize);
        g.throughput(Throughput::Elements(u64::from(masters)));
        g.bench_with_input(BenchmarkId::new("masters", masters), &blob, |b, blob| {
            b.iter(|| boot(std::hint::black_box(blob)))
        });
        // Every instance holds all 32 group domains.
        let room = IOMMUS as usize * 32;
        assert_eq!(boot_with(&blob, GROUPED, room), masters as usize);
        g.bench_with_input(BenchmarkId::new("grouped", masters), &blob, |b, blob| {
            b.iter(|| boot_with(std::hint::black_box(blob), GROUPED, room))
        });
    }
    g.finish();
}

/// `masters` nested buses below the root, each a master of IOMMU 1.
fn nested_tree(masters: u32) -> Vec<u8> {
    raw::nested_masters(masters, b"bus@0", |_| [0, 0x1000, 0x8000_0000])
}

/// Index, DMA facts, init, configure every master.
fn boot_nested(blob: &[u8]) -> usize {
    let fdt = Fdt::new(blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    let mut slots = vec![NodeDma::EMPTY; tree.len()];
    let facts = DmaFacts::new(&tree, &mut slots).unwrap();
    let mut records = vec![IommuRecord::EMPTY; 1];
    let table = iommu_init(&tree, &[TABLE], &mut records).unwrap();
    let mut domains = vec![DomainInfo::EMPTY; 1];
    let mut per = vec![0; table.records().len()];
    let mut domains = DomainTable::new(&mut domains, &mut per).with_dma_facts(facts);
    let mut fw = FwSpec::<8, 2>::new();
    tree.nodes()
        .filter(|n| is_master(*n))
        .filter(|n| setup_master(*n, &table, &mut fw, &mut domains).is_ok())
        .count()
}

fn bench_nested(c: &mut Criterion) {
    let mut g = c.benchmark_group("boot_flow");
    g.sample_size(10);
    for masters in [20_000u32, 200_000] {
        let blob = nested_tree(masters);
        assert_eq!(boot_nested(&blob), masters as usize);
        g.throughput(Throughput::Elements(u64::from(masters)));
        g.bench_with_input(BenchmarkId::new("nested", masters), &blob, |b, blob| {
            b.iter(|| boot_nested(std::hint::black_box(blob)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_boot, bench_nested);
criterion_main!(benches);

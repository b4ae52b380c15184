//! `dma::DmaFacts` (one pass, caller storage) against the walking
//! functions it replaces, and its work on nested buses.

mod common;
mod raw;

use common::*;
use iommugen_runtime::boot::{is_master, setup_master};
use iommugen_runtime::dma::{self, DmaFacts, NodeDma, TooFewSlots};
use iommugen_runtime::fdt::DeviceTree;
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::ops::{DomainInfo, DomainTable};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A `dma-ranges` value for 1-cell child, parent and size addresses:
/// absent, empty, one or two entries, a ragged length, or entries near
/// the top of the address space.
fn ranges(rng: &mut Rng) -> Option<Vec<u32>> {
    let entry = |rng: &mut Rng| {
        let base = [0u32, 0x1000, 0x8000_0000, 0xffff_f000][rng.below(4) as usize];
        let parent = [0u32, 0x4000, 0x8000_0000, 0xffff_0000][rng.below(4) as usize];
        let size = [0u32, 0x1000, 0x10_0000, 0x8000_0000, 0xffff_ffff][rng.below(5) as usize];
        [base, parent, size]
    };
    match rng.below(7) {
        0 | 1 => None,
        2 => Some(vec![]),
        3 | 4 => Some(entry(rng).to_vec()),
        5 => Some([entry(rng), entry(rng)].concat()),
        _ => Some(vec![1, 2]),
    }
}

/// A random tree up to 8 deep, every bus with 1-cell addresses.
fn random_tree(rng: &mut Rng) -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.u32("#address-cells", 1).u32("#size-cells", 1);
    let mut depth = 0;
    for i in 0..40 {
        if depth > 0 && (rng.below(3) == 0 || depth == 8) {
            b.end();
            depth -= 1;
            continue;
        }
        b.begin(&format!("n@{i}"))
            .u32("#address-cells", 1)
            .u32("#size-cells", 1);
        depth += 1;
        if let Some(r) = ranges(rng) {
            b.cells("dma-ranges", &r);
        }
        match rng.below(4) {
            0 => {
                b.flag("dma-coherent");
            }
            1 => {
                b.flag("dma-noncoherent");
            }
            _ => {}
        }
    }
    b.finish()
}

#[test]
fn facts_equal_the_walks_on_random_trees() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut windows = 0;
    for _ in 0..1_500 {
        let blob = random_tree(&mut rng);
        with_tree(&blob, |tree| {
            let mut slots = vec![NodeDma::EMPTY; tree.len()];
            let facts = DmaFacts::new(&tree, &mut slots).unwrap();
            for n in tree.nodes() {
                assert_eq!(facts.is_coherent(n), dma::is_coherent(n));
                assert_eq!(facts.dma_window(n), dma::dma_window(n));
                assert_eq!(facts.dma_window_below(n), dma::dma_window_below(n));
                windows += usize::from(matches!(dma::dma_window(n), Ok(Some(_))));
            }
        });
    }
    // The trees exercise translation, not just absent ranges.
    assert!(windows > 4_000, "only {windows} windows");
}

#[test]
fn storage_too_small_is_an_error() {
    let mut b = TreeBuilder::new();
    b.begin("a").end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let mut slots = [NodeDma::EMPTY; 1];
        assert_eq!(
            DmaFacts::new(&tree, &mut slots).unwrap_err(),
            TooFewSlots { needed: 2 }
        );
    });
}

/// `n` buses nested in one another, each shifting by 0x1000.
fn nested_masters(n: usize) -> Vec<u8> {
    raw::nested_masters(n as u32, b"bus@1000", |i| [0x1000, 0x2000, 0x4000_0000 - i])
}

#[test]
fn nested_masters_cost_linear_work() {
    let n = 20_000;
    let blob = nested_masters(n);
    with_tree(&blob, |tree| {
        let mut slots = vec![NodeDma::EMPTY; tree.len()];
        let facts = DmaFacts::new(&tree, &mut slots).unwrap();
        // One step per dma-ranges entry: each composes with its parent's
        // map. Walking every master's ancestry would be n²/2 = 2 * 10^8.
        assert!(facts.steps() <= 2 * n as u64, "{} steps", facts.steps());
        // Spot checks against the walk (each O(depth)).
        for id in (0..tree.len() as u32).step_by(4001) {
            let node = tree.node(iommugen_runtime::fdt::NodeId(id)).unwrap();
            assert_eq!(facts.dma_window(node), dma::dma_window(node));
            assert_eq!(facts.is_coherent(node), dma::is_coherent(node));
        }
        let deepest = tree.nodes().last().unwrap();
        let w = facts.dma_window(deepest).unwrap().unwrap();
        assert_eq!((w.base, w.cpu_base), (0x1000, 0x1000 * n as u64));

        // The whole flow over the same facts: every master configured.
        let mut records = vec![IommuRecord::EMPTY; tree.len()];
        let iommus = iommu_init(&tree, &[TABLE], &mut records).unwrap();
        let mut d = vec![DomainInfo::EMPTY; tree.len()];
        let mut per = vec![0; iommus.records().len()];
        let mut domains = DomainTable::new(&mut d, &mut per).with_dma_facts(facts);
        let mut fw = FwSpec::<4, 1>::new();
        let mut configured = 0;
        for node in tree.nodes().filter(|n| is_master(*n)) {
            let s = setup_master(node, &iommus, &mut fw, &mut domains).unwrap();
            assert!(s.dma.coherent);
            configured += 1;
        }
        assert_eq!(configured, n);
    });
}

#[test]
fn facts_serve_only_their_own_tree() {
    // A node of a larger tree than the facts cover falls back to the walk.
    let small = TreeBuilder::new().finish();
    let mut b = TreeBuilder::new();
    b.flag("dma-coherent").begin("a").begin("b").end().end();
    let big = b.finish();
    with_tree(&small, |st: DeviceTree<'_>| {
        let mut slots = vec![NodeDma::EMPTY; st.len()];
        let facts = DmaFacts::new(&st, &mut slots).unwrap();
        with_tree(&big, |bt| {
            let leaf = bt.nodes().last().unwrap();
            assert!(facts.is_coherent(leaf));
            assert_eq!(facts.dma_window(leaf), Ok(None));
        });
    });
}

#[test]
fn an_entry_whose_parent_side_passes_2_64_is_an_error() {
    // Child 0, parent 2^64 - 0x1000, size 0x2000: the translation would
    // wrap to low memory.
    let mut b = TreeBuilder::new();
    b.begin("bus")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2)
        .cells("dma-ranges", &[0, 0, 0xffff_ffff, 0xffff_f000, 0, 0x2000])
        .begin("dev")
        .end()
        .end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let dev = tree.find_path("/bus/dev").unwrap();
        assert_eq!(dma::dma_window(dev), Err(dma::DmaRangeError::Overflow));
        let mut slots = vec![NodeDma::EMPTY; tree.len()];
        let facts = DmaFacts::new(&tree, &mut slots).unwrap();
        assert_eq!(facts.dma_window(dev), Err(dma::DmaRangeError::Overflow));
    });
}

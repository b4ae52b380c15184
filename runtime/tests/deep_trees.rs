//! Big and deep trees: a node nesting 1,000,000 deep, megabyte names and
//! values, 10^6 nodes. Each indexes and boots (or fails cleanly) without
//! recursion or quadratic work; these would hang or overflow otherwise.

mod common;
mod raw;

use common::*;
use iommugen_runtime::boot::{is_master, setup_master};
use iommugen_runtime::dma::{DmaFacts, NodeDma};
use iommugen_runtime::fdt::{DeviceTree, Fdt, FdtError, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::ops::{DomainInfo, DomainTable};

fn one(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// Root with an SMMUv3 (phandle 1), then the caller's nodes.
fn with_iommu(build: impl FnOnce(&mut raw::Raw)) -> Vec<u8> {
    let mut r = raw::Raw::new();
    r.begin(b"")
        .prop("#address-cells", &one(1))
        .prop("#size-cells", &one(1));
    r.begin(b"iommu@0")
        .prop("compatible", b"arm,smmu-v3\0")
        .prop("#iommu-cells", &one(1))
        .prop("phandle", &one(1))
        .end_node();
    build(&mut r);
    r.end_node().finish();
    r.blob()
}

/// Index, init, and configure every master over DmaFacts; the count.
fn boot_all(tree: DeviceTree<'_>) -> usize {
    let mut slots = vec![NodeDma::EMPTY; tree.len()];
    let facts = DmaFacts::new(&tree, &mut slots).unwrap();
    let mut records = vec![IommuRecord::EMPTY; tree.len()];
    let iommus = iommu_init(&tree, &[TABLE], &mut records).unwrap();
    let mut d = vec![DomainInfo::EMPTY; tree.len()];
    let mut per = vec![0; iommus.records().len()];
    let mut domains = DomainTable::new(&mut d, &mut per).with_dma_facts(facts);
    let mut fw = FwSpec::<4, 1>::new();
    tree.nodes()
        .filter(|n| is_master(*n))
        .map(|n| setup_master(n, &iommus, &mut fw, &mut domains).unwrap())
        .count()
}

#[test]
fn a_million_levels_deep() {
    const DEPTH: usize = 1_000_000;
    let blob = with_iommu(|r| {
        for _ in 0..DEPTH {
            r.begin(b"n").prop("dma-ranges", &[]);
        }
        r.prop("iommus", &[one(1), one(7)].concat())
            .prop("dma-coherent", &[]);
        for _ in 0..DEPTH {
            r.end_node();
        }
    });
    with_tree(&blob, |tree| {
        assert_eq!(tree.len(), DEPTH + 2);
        let leaf = tree.nodes().last().unwrap();
        // Paths print the last 64 names.
        let mut path = String::new();
        leaf.write_path(&mut path).unwrap();
        assert_eq!(path, format!("/\u{2026}{}", "/n".repeat(64)));
        // The root's children: a sibling hop, not a scan of the chain.
        assert_eq!(tree.root().children().count(), 2);
        assert_eq!(tree.find_path("/n/n/n").map(|n| n.id().0), Some(4));
        assert_eq!(boot_all(tree), 1);
    });
}

#[test]
fn an_unclosed_million_deep_tree_is_an_error() {
    let mut r = raw::Raw::new();
    r.begin(b"");
    for _ in 0..1_000_000 {
        r.begin(b"n");
    }
    r.finish();
    let blob = r.blob();
    let fdt = Fdt::new(&blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    assert!(matches!(
        DeviceTree::new(fdt, &mut nodes, &mut phandles),
        Err(FdtError::Unbalanced { .. })
    ));
}

#[test]
fn megabyte_names_and_values() {
    let big_name = vec![b'x'; 1 << 20];
    let big_value = vec![b'y'; 1 << 20];
    let blob = with_iommu(|r| {
        r.begin(&big_name)
            .prop("compatible", &big_value)
            .prop("iommus", &[one(1), one(3)].concat())
            .end_node();
        // A megabyte property name, interned in the strings block.
        let long = "z".repeat(1 << 20);
        r.begin(b"dev@1").prop(&long, b"v").end_node();
    });
    with_tree(&blob, |tree| {
        let dev = tree.nodes().nth(2).unwrap();
        assert_eq!(dev.name_bytes().len(), 1 << 20);
        assert_eq!(dev.property("compatible").unwrap().value.len(), 1 << 20);
        let mut path = String::new();
        dev.write_path(&mut path).unwrap();
        assert_eq!(path.len(), 1 + (1 << 20));
        let other = tree.find_path("/dev@1").unwrap();
        let p = other.properties().next().unwrap();
        assert_eq!(other.property_name(&p).len(), 1 << 20);
        assert_eq!(boot_all(tree), 1);
    });
}

#[test]
fn a_million_masters() {
    const N: u32 = 1_000_000;
    let blob = with_iommu(|r| {
        for i in 0..N {
            r.begin(b"m")
                .prop("iommus", &[one(1), one(i)].concat())
                .end_node();
        }
    });
    with_tree(&blob, |tree| {
        assert_eq!(tree.root().children().count(), N as usize + 1);
        assert_eq!(boot_all(tree), N as usize);
    });
}

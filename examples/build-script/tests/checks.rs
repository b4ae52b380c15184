//! Generated check code against a hand-written reference: the four checks
//! of `specs/check-zoo.iommu`, evaluated here directly with the IR's
//! semantics (values as u64, wrapping arithmetic, shifts of 64 or more give
//! 0, comparisons and logic 0 or 1), on hand-worked cases and random cells.

use iommugen_example_build_script::generated::check_zoo::CheckZoo;
use iommugen_runtime::decl::{DriverError, InstanceData, IommuDriver};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use proptest::prelude::*;

const CHECK_1: &str = "a != 0 && (b < 200 || a >= 0x8000)";
const CHECK_2: &str = "!(a & 15 == 15)";
const CHECK_3: &str = "a + b * 2 - 3 < 1 << 17";
const CHECK_4: &str = "a << b >> 40 == 0 || b ^ 85 > 80";

/// The spec's fields, checks and packing, written out by hand.
fn reference(cell0: u32, cell1: u32) -> Result<u32, &'static str> {
    let a = u64::from(cell0 & 0xffff);
    let b = u64::from(cell1 & 0xff);
    if !(a != 0 && (b < 200 || a >= 0x8000)) {
        return Err(CHECK_1);
    }
    if a & 0xf == 0xf {
        return Err(CHECK_2);
    }
    if a.wrapping_add(b.wrapping_mul(2)).wrapping_sub(3) >= 1 << 17 {
        return Err(CHECK_3);
    }
    let shifted = u32::try_from(b)
        .ok()
        .and_then(|s| a.checked_shl(s))
        .unwrap_or(0);
    if !(shifted >> 40 == 0 || (b ^ 0x55) > 80) {
        return Err(CHECK_4);
    }
    Ok(((b << 16) | a) as u32)
}

fn with_node<R>(f: impl FnOnce(Node<'_>) -> R) -> R {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    let n = w.begin_node("iommu@0").unwrap();
    w.property_u32("#iommu-cells", 2).unwrap();
    w.end_node(n).unwrap();
    w.end_node(root).unwrap();
    let blob = w.finish().unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    f(tree.find_path("/iommu@0").unwrap())
}

fn generated(node: Node<'_>, cells: [u32; 2]) -> Result<u32, &'static str> {
    let mut fwspec: FwSpec = FwSpec::new();
    let mut sink = fwspec.sink(node.id()).unwrap();
    let master = iommugen_runtime::master::Master::platform(node, None);
    match CheckZoo.of_xlate(&master, node, InstanceData(0), &cells, &mut sink) {
        Ok(()) => Ok(fwspec.ids_for(node.id()).next().unwrap()),
        Err(DriverError::CheckRejected { check }) => Err(check),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn hand_worked_cases() {
    let cases: [([u32; 2], Result<u32, &str>); 8] = [
        ([0x0000, 5], Err(CHECK_1)),                   // a == 0
        ([0x001f, 5], Err(CHECK_2)),                   // low nibble all ones
        ([0x0001, 0], Err(CHECK_3)),                   // 1 + 0 - 3 wraps to 2^64 - 2
        ([0x8000, 25], Err(CHECK_4)),                  // 2^15 << 25 >> 40 = 1, 25 ^ 0x55 = 76
        ([0x0010, 10], Ok(0x000a_0010)),               // every check holds
        ([0x8001, 250], Ok(0x00fa_8001)), // b >= 200 but a >= 0x8000; shift by 250 gives 0
        ([0x0100, 40], Ok(0x0028_0100)),  // 2^48 >> 40 != 0, but 40 ^ 0x55 = 125 > 80
        ([0xffff_0100, 0x1234_5628], Ok(0x0028_0100)), // bits outside [15:0] / [7:0] ignored
    ];
    with_node(|node| {
        for (cells, want) in cases {
            assert_eq!(reference(cells[0], cells[1]), want, "reference {cells:x?}");
            assert_eq!(generated(node, cells), want, "generated {cells:x?}");
        }
    });
}

proptest! {
    #[test]
    fn generated_checks_match_the_reference(
        cell0 in prop_oneof![0u32..0x40, 0x7ff0u32..0x8010, any::<u32>()],
        cell1 in prop_oneof![0u32..64, 190u32..210, any::<u32>()],
    ) {
        with_node(|node| {
            prop_assert_eq!(generated(node, [cell0, cell1]), reference(cell0, cell1));
            Ok(())
        })?;
    }
}

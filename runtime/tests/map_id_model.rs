//! `of_map_id` against a reference written straight from the PCI IOMMU
//! binding (pci-iommu.yaml) and Linux's rules, on random maps and RIDs
//! encoded into real FDTs.

mod common;

use common::*;
use iommugen_runtime::map_id::{of_map_id, MapError};
use proptest::prelude::*;

/// (rid-base, target index 0..2, out-base, length)
type Entry = (u32, u8, u32, u32);

/// The binding, restated: mask first; an entry's base must lie inside the
/// mask; base + length and out-base + length must not pass 2^32; the first
/// covering entry maps; none covering means no translation.
fn reference(entries: &[Entry], mask: Option<u32>, rid: u32) -> Result<Option<(u8, u32)>, ()> {
    let mask = mask.unwrap_or(u32::MAX);
    let masked = u64::from(rid & mask);
    for &(base, target, out, len) in entries {
        let (base, out, len) = (u64::from(base), u64::from(out), u64::from(len));
        if base & !u64::from(mask) != 0 || base + len > 1 << 32 || out + len > 1 << 32 {
            return Err(());
        }
        if masked >= base && masked < base + len {
            return Ok(Some((target, (out + masked - base) as u32)));
        }
    }
    Ok(None)
}

fn entry() -> impl Strategy<Value = Entry> {
    // Small numbers so that entries often cover the RID and sometimes break
    // the rules; occasionally huge ones to hit the overflow checks.
    let small = 0u32..0x400;
    let any = prop_oneof![4 => small.clone(), 1 => any::<u32>()];
    (any.clone(), 0u8..2, any.clone(), any)
}

proptest! {
    #[test]
    fn matches_the_reference(
        entries in prop::collection::vec(entry(), 0..6),
        mask in prop::option::of(prop_oneof![Just(0xffffu32), Just(0xff00), Just(0xfff8), Just(0), any::<u32>()]),
        rid in prop_oneof![0u32..0x400, any::<u32>()],
    ) {
        let mut b = TreeBuilder::new();
        for (i, name) in ["iommu@0", "iommu@1"].iter().enumerate() {
            b.begin(name)
                .strs("compatible", &["arm,smmu-v3"])
                .u32("#iommu-cells", 1)
                .u32("phandle", i as u32 + 1)
                .end();
        }
        let cells: Vec<u32> = entries
            .iter()
            .flat_map(|&(base, t, out, len)| [base, u32::from(t) + 1, out, len])
            .collect();
        b.begin("pcie@0").cells("iommu-map", &cells);
        if let Some(m) = mask {
            b.u32("iommu-map-mask", m);
        }
        b.end();
        let blob = b.finish();
        with_tree(&blob, |tree| {
            let host = tree.find_path("/pcie@0").unwrap();
            let got = of_map_id(host, rid, "iommu-map", "iommu-map-mask");
            let want = reference(&entries, mask, rid);
            match (got, want) {
                (Ok(None), Ok(None)) => {}
                (Ok(Some((node, id))), Ok(Some((t, want_id)))) => {
                    let name = tree.node(node).unwrap().name();
                    prop_assert_eq!(name, if t == 0 { "iommu@0" } else { "iommu@1" });
                    prop_assert_eq!(id, want_id);
                }
                (Err(MapError::BaseOutsideMask { .. } | MapError::Overflow { .. }), Err(())) => {}
                (got, want) => prop_assert!(false, "got {:?}, reference {:?}", got, want),
            }
            Ok(())
        })?;
    }
}

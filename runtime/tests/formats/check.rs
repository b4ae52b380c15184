//! The one check run after every step: raw table memory, read through the
//! reference walker, holds exactly the model; the pool holds exactly the
//! reachable tables; engine, walker and model agree on sample addresses.

use iommugen_runtime::pgtable::{Format, StaticPool, TablePool};

use super::{normalise, reader, FormatUnderTest, Model, Word};

/// Whether `ia` fits the format's input size.
fn in_range<A: FormatUnderTest>(ia: u64) -> bool {
    let ias = <A::F as Format>::IAS;
    ias >= 64 || ia >> ias == 0
}

pub fn check<A: FormatUnderTest, const N: usize>(
    root: u64,
    pool: &StaticPool<A::Mem, N>,
    model: &Model<A::Attrs>,
    engine: &dyn Fn(u64) -> Option<u64>,
) {
    let read = reader::<A::Word, A::Mem, N>(pool);
    assert_eq!(
        A::Word::BYTES,
        1 << <<A::F as Format>::Desc as iommugen_runtime::pgtable::Desc>::SHIFT,
        "adapter's entry width"
    );
    let (found, tables) = A::leaves(root, &read).unwrap_or_else(|e| panic!("malformed: {e}"));
    assert_eq!(
        normalise(found),
        normalise(model.spans.clone()),
        "tables differ from the model"
    );
    assert_eq!(
        pool.in_use(),
        tables + A::ROOT_SLOTS,
        "pool accounting: reachable tables + root"
    );
    for s in &model.spans {
        let mid = s.ia + s.size / 2;
        for ia in [s.ia, mid, mid + 0x123, s.ia + s.size - 1] {
            let want = s.pa + (ia - s.ia);
            assert_eq!(
                A::walk(root, ia, &read),
                Some((want, s.attrs)),
                "walk {ia:#x}"
            );
            assert_eq!(engine(ia), Some(want), "engine lookup {ia:#x}");
        }
        for ia in [s.ia.wrapping_sub(1), s.ia + s.size] {
            if in_range::<A>(ia) && model.lookup(ia).is_none() {
                assert_eq!(A::walk(root, ia, &read), None, "walk {ia:#x} unmapped");
                assert_eq!(engine(ia), None, "engine lookup {ia:#x} unmapped");
            }
        }
    }
}

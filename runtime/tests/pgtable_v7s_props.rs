//! ARMv7 short descriptors, with and without the MediaTek extension,
//! through the generic harness (`formats/`): random map / unmap / lookup
//! sequences over all four leaf sizes (partial unmaps of supersections,
//! sections and large pages included), and every cut of a supersection.

mod formats;

use formats::driver::{cut_everywhere, ops, run};
use formats::{FormatUnderTest, Leaves, Span};
use iommugen_runtime::pgtable::{ArmV7s, Format, StaticPool, Table1K};
use iommugen_runtime::refwalk::arm_v7s::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;
use proptest::prelude::*;

/// The four leaf sizes.
const UNITS: [u64; 4] = [1 << 12, 1 << 16, 1 << 20, 1 << 24];

/// `IAS` 34: MediaTek's wider input (64 KiB first level).
struct V7s<const MTK: bool, const IAS: u32 = 32>;

impl<const MTK: bool, const IAS: u32> FormatUnderTest for V7s<MTK, IAS> {
    type F = ArmV7s<MTK, { iommugen_runtime::pgtable::legal::arm_v7s::SIZES }, true, IAS>;
    type Mem = Table1K;
    type Word = u32;
    type Attrs = Attrs;
    /// The 16 KiB first level (64 KiB at a 34-bit input).
    const ROOT_SLOTS: usize = 1 << (IAS - 28);
    /// 64 KiB aligned and below 4 GiB (table pointers hold 32 bits).
    const POOL_PA: u64 = 0x4000_0000;
    const UNITS: &'static [u64] = &UNITS;
    /// 256 small pages per second-level table: a section.
    const TABLE_SPAN: u64 = UNITS[2];
    /// Four supersections at the top of the input (above 4 GiB at 34 bits,
    /// where the first-level index has its two extra bits).
    const WINDOW_BASE: u64 = (1 << IAS) - 4 * UNITS[3];
    /// At the top of the output range (above 4 GiB with the extension).
    const PA_BASE: u64 = (1 << <ArmV7s<MTK> as Format>::OAS) - 8 * UNITS[3];
    /// Quarters of a supersection, and one page off every larger size.
    const PA_SHIFTS: &'static [u64] = &[0, 4 << 20, 8 << 20, 12 << 20, 0x1000];

    /// From the book's "Page-table formats": S and nG always, AF set; TEX
    /// and B/C give the memory type; the extension has no AP/XN bits.
    fn expected(prot: Prot) -> Attrs {
        let memtype = if prot.contains(Prot::MMIO) {
            2
        } else if prot.contains(Prot::CACHE) {
            1
        } else {
            0
        };
        Attrs {
            read: true,
            write: MTK || prot.contains(Prot::WRITE),
            exec: MTK || !prot.contains(Prot::NOEXEC),
            unpriv: MTK || !prot.contains(Prot::PRIV),
            memtype,
            access_flag: true,
            shareable: true,
            not_global: true,
        }
    }

    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> u32) -> Option<(u64, Attrs)> {
        let cfg = WalkConfig {
            mtk_ext: MTK,
            ias: IAS,
        };
        let t = walk(&cfg, root, ia, read).ok()?;
        Some((t.pa, t.attrs))
    }

    fn leaves(root: u64, read: &dyn Fn(u64) -> u32) -> Leaves<Attrs> {
        let cfg = WalkConfig {
            mtk_ext: MTK,
            ias: IAS,
        };
        let (found, tables) = leaves(&cfg, root, read).map_err(|f| format!("{f:?}"))?;
        let spans = found.iter().map(|l| Span {
            ia: l.ia,
            size: l.size,
            pa: l.pa,
            attrs: l.attrs,
        });
        Ok((spans.collect(), tables))
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 256 },
        ..ProptestConfig::default()
    })]
    #[test]
    fn v7s_random_ops(ops in ops::<V7s<false>>()) {
        // 16 slots of root and up to 24 second-level tables: small enough
        // that maps run out of tables.
        static POOL: StaticPool<Table1K, 40> = StaticPool::new();
        run::<V7s<false>, 40>(&POOL, &ops);
    }

    #[test]
    fn v7s_mtk_random_ops(ops in ops::<V7s<true>>()) {
        static POOL: StaticPool<Table1K, 40> = StaticPool::new();
        run::<V7s<true>, 40>(&POOL, &ops);
    }

    #[test]
    fn v7s_mtk_34bit_random_ops(ops in ops::<V7s<true, 34>>()) {
        // 64 slots of root, up to 24 second-level tables.
        static POOL: StaticPool<Table1K, 88> = StaticPool::new();
        run::<V7s<true, 34>, 88>(&POOL, &ops);
    }
}

/// Every partial unmap of a supersection: a 4K hole in each 1M step splits
/// it into sections and one section into pages (one second-level table).
#[test]
fn supersection_cut_everywhere() {
    static POOL: StaticPool<Table1K, 64> = StaticPool::new();
    cut_everywhere::<V7s<false>, 64>(
        &POOL,
        (0x1000_0000, 0x2000_0000, 1 << 24),
        (1 << 20, 0x3000),
        1,
    );
}

//! Arm VMSAv8-64 translation-table geometry: which address sizes, levels and
//! block sizes a granule allows. The rules follow the Arm ARM (D8, "The
//! VMSAv8-64 address translation system") as the SMMU architectures and
//! Linux's io-pgtable-arm apply them; each error cites the rule it enforces.
//! Which levels hold leaves and where a walk starts come from the runtime
//! (`iommugen_runtime::pgtable::lpae`), so checker and engine cannot
//! disagree on what compiles.

use crate::ir::{Format, Granule};
use iommugen_runtime::pgtable::lpae;

/// Output address sizes the architecture encodes (PARange / SMMU OAS).
pub const OUTPUT_SIZES: [u64; 7] = [32, 36, 40, 42, 44, 48, 52];

/// Smallest input size: TnSZ is at most 39 without FEAT_TTST.
pub const MIN_IAS: u64 = 25;

/// Table entries resolved per level: a table is one granule of 8-byte
/// descriptors.
pub fn bits_per_level(g: Granule) -> u32 {
    g.shift() - 3
}

/// Bytes mapped by one entry at `level` (0..=3).
pub fn level_size(g: Granule, level: u32) -> u64 {
    1u64 << (g.shift() + bits_per_level(g) * (3 - level))
}

/// Number of lookup levels for `ias` bits. At stage 2 the start level may hold
/// up to 16 concatenated tables (4 extra bits), so fewer levels may be needed.
pub fn levels(format: Format, g: Granule, ias: u32) -> u32 {
    4 - start_level(format, g, ias)
}

/// First lookup level (the engine's own rule).
pub fn start_level(format: Format, g: Granule, ias: u32) -> u32 {
    lpae::start_level(matches!(format, Format::ArmLpaeS2), g.shift(), ias)
}

/// Tables the start level spans: 1 at stage 1, up to 16 concatenated at stage 2.
pub fn root_tables(format: Format, g: Granule, ias: u32) -> u64 {
    let resolved_below = g.shift() + bits_per_level(g) * levels(format, g, ias);
    let root_bits = ias.saturating_sub(resolved_below - bits_per_level(g));
    let entries = 1u64 << root_bits.min(63);
    entries.div_ceil(1u64 << bits_per_level(g)).max(1)
}

/// Tables one walk touches: the (possibly concatenated) root and one table
/// per further level. A pool smaller than this cannot map a single page.
pub fn tables_per_walk(format: Format, g: Granule, ias: u32) -> u64 {
    root_tables(format, g, ias) + u64::from(levels(format, g, ias) - 1)
}

/// Why a page/block size is not allowed, or `None` if it is.
pub fn block_size_problem(
    format: Format,
    g: Granule,
    ias: u32,
    oas: u32,
    size: u64,
) -> Option<String> {
    let start = start_level(format, g, ias);
    let level = (0..=3).find(|&l| level_size(g, l) == size);
    // Only built when there is a problem to explain.
    let list = || {
        allowed_sizes(format, g, ias, oas)
            .iter()
            .map(|&s| size_text(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(level) = level else {
        return Some(format!(
            "a {} granule maps only {} here (one entry at some lookup level)",
            size_text(g.bytes()),
            list()
        ));
    };
    if level < start {
        return Some(format!(
            "a {} entry is at level {level}, above the start level {start} that ias {ias} gives",
            size_text(size)
        ));
    }
    if lpae::leaf_level_allowed(g.shift(), oas, level) {
        return None;
    }
    let reason = match (g, level) {
        (Granule::K4, 0) => "level-0 block descriptors exist with the 4K granule only under FEAT_LPA2, which iommugen does not support",
        (Granule::K16, 1) => "level-1 block descriptors exist with the 16K granule only under FEAT_LPA2, which iommugen does not support",
        (Granule::K64, 1) => "level-1 block descriptors (4T) with the 64K granule need a 52-bit output address (FEAT_LPA); set `oas 52`",
        _ => "no block descriptors exist at level 0 for this granule",
    };
    Some(format!("{reason}; allowed here: {}", list()))
}

/// Sizes [`block_size_problem`] accepts, ascending.
pub fn allowed_sizes(format: Format, g: Granule, ias: u32, oas: u32) -> Vec<u64> {
    let start = start_level(format, g, ias);
    let mut v: Vec<u64> = (0..=3u32)
        .rev()
        .filter(|&l| l >= start)
        .filter(|&l| lpae::leaf_level_allowed(g.shift(), oas, l))
        .map(|l| level_size(g, l))
        .collect();
    v.sort_unstable();
    v
}

/// `4K`, `2M`, `1G`, `4T`, or plain bytes.
pub fn size_text(bytes: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_sizes_follow_the_granule() {
        // 4K: 9 bits per level; level 3 maps 4K, level 2 2M, level 1 1G.
        assert_eq!(level_size(Granule::K4, 3), 4096);
        assert_eq!(level_size(Granule::K4, 2), 2 << 20);
        assert_eq!(level_size(Granule::K4, 1), 1 << 30);
        // 16K: 11 bits per level; level 2 maps 32M.
        assert_eq!(level_size(Granule::K16, 2), 32 << 20);
        // 64K: 13 bits per level; level 2 maps 512M, level 1 4T.
        assert_eq!(level_size(Granule::K64, 2), 512 << 20);
        assert_eq!(level_size(Granule::K64, 1), 4 << 40);
    }

    #[test]
    fn start_levels() {
        // 48-bit 4K stage 1: 36 bits to resolve in 9-bit steps = 4 levels.
        assert_eq!(start_level(Format::ArmLpaeS1, Granule::K4, 48), 0);
        // 39 bits: 27 bits = 3 levels.
        assert_eq!(start_level(Format::ArmLpaeS1, Granule::K4, 39), 1);
        // 40-bit stage 2 with 4K: start at level 1 with 2 concatenated tables.
        assert_eq!(start_level(Format::ArmLpaeS2, Granule::K4, 40), 1);
        assert_eq!(root_tables(Format::ArmLpaeS2, Granule::K4, 40), 2);
        // 42-bit 64K stage 1: 26 bits in 13-bit steps = 2 levels.
        assert_eq!(start_level(Format::ArmLpaeS1, Granule::K64, 42), 2);
    }

    #[test]
    fn walk_needs_one_table_per_level() {
        assert_eq!(tables_per_walk(Format::ArmLpaeS1, Granule::K4, 48), 4);
        assert_eq!(tables_per_walk(Format::ArmLpaeS1, Granule::K4, 32), 3);
        // 2 concatenated roots + levels 2 and 3.
        assert_eq!(tables_per_walk(Format::ArmLpaeS2, Granule::K4, 40), 4);
    }

    #[test]
    fn block_sizes_per_granule() {
        let s1 = Format::ArmLpaeS1;
        assert_eq!(
            allowed_sizes(s1, Granule::K4, 48, 48),
            vec![4 << 10, 2 << 20, 1 << 30]
        );
        assert_eq!(
            allowed_sizes(s1, Granule::K16, 48, 48),
            vec![16 << 10, 32 << 20]
        );
        assert_eq!(
            allowed_sizes(s1, Granule::K64, 48, 48),
            vec![64 << 10, 512 << 20]
        );
        assert_eq!(
            allowed_sizes(s1, Granule::K64, 52, 52),
            vec![64 << 10, 512 << 20, 4 << 40]
        );
        // ias 30 with 4K starts at level 2: no 1G blocks.
        assert_eq!(
            allowed_sizes(s1, Granule::K4, 30, 48),
            vec![4 << 10, 2 << 20]
        );
        assert!(block_size_problem(s1, Granule::K16, 48, 48, 64 << 30).is_some());
    }
}

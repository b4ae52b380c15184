//! `of_map_id`: translate an ID (a PCI requester ID) through a `*-map`
//! property, following Linux's rules:
//!
//! - the ID is first ANDed with the `*-map-mask` cell (all ones when absent);
//! - entries are `<id-base phandle out-base length>`; an entry whose
//!   id-base has bits outside the mask is an error (the map is inconsistent);
//! - the first entry with `id-base <= masked < id-base + length` gives
//!   `out-base + (masked - id-base)` on the phandle's node;
//! - no entry covering the ID means no translation (`Ok(None)`).
//!
//! Where Linux's 32-bit arithmetic would silently wrap (`id-base + length`,
//! `out-base + offset`), we report an error.

use crate::fdt::{Node, NodeId, PhandleError};

/// Why a `*-map` could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The map's length is not a whole number of 4-cell entries.
    BadLength { bytes: usize },
    /// The mask property is not exactly one cell.
    BadMask,
    /// Entry `entry`'s id-base has bits the mask clears.
    BaseOutsideMask { entry: usize, base: u32, mask: u32 },
    /// Entry `entry`'s id-base + length, or out-base + offset, passes 2^32.
    Overflow { entry: usize },
    /// Entry `entry` names a phandle no single node declares.
    Phandle { entry: usize, error: PhandleError },
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MapError::BadLength { bytes } => {
                write!(
                    f,
                    "map is {bytes} bytes, not a whole number of 16-byte entries"
                )
            }
            MapError::BadMask => f.write_str("map mask is not a single cell"),
            MapError::BaseOutsideMask { entry, base, mask } => write!(
                f,
                "map entry {entry}: base {base:#x} has bits outside the mask {mask:#x}"
            ),
            MapError::Overflow { entry } => {
                write!(
                    f,
                    "map entry {entry}: base or output base plus length passes 2^32"
                )
            }
            MapError::Phandle { entry, error } => match error {
                PhandleError::Dangling(p) => {
                    write!(f, "map entry {entry}: phandle {p:#x} names no node")
                }
                PhandleError::Duplicate(p) => {
                    write!(
                        f,
                        "map entry {entry}: phandle {p:#x} is declared by several nodes"
                    )
                }
            },
        }
    }
}

/// Translate `id` through `node`'s `map_name` / `mask_name`. `Ok(None)`:
/// no map, or no entry covers the ID (the device runs untranslated).
pub fn of_map_id(
    node: Node<'_>,
    id: u32,
    map_name: &str,
    mask_name: &str,
) -> Result<Option<(NodeId, u32)>, MapError> {
    let Some(map) = node.property(map_name) else {
        return Ok(None);
    };
    let cells = map
        .cells()
        .filter(|c| c.len() % 4 == 0)
        .ok_or(MapError::BadLength {
            bytes: map.value.len(),
        })?;
    let mask = match node.property(mask_name) {
        None => u32::MAX,
        Some(p) => p.as_u32().ok_or(MapError::BadMask)?,
    };
    let masked = id & mask;
    let tree = node.tree();
    for entry in 0..cells.len() / 4 {
        let cell = |i: usize| cells.get(entry * 4 + i).unwrap_or(0);
        let (base, phandle, out_base, len) = (cell(0), cell(1), cell(2), cell(3));
        if base & !mask != 0 {
            return Err(MapError::BaseOutsideMask { entry, base, mask });
        }
        let end = u64::from(base) + u64::from(len);
        if end > 1 << 32 || u64::from(out_base) + u64::from(len) > 1 << 32 {
            return Err(MapError::Overflow { entry });
        }
        if masked < base || u64::from(masked) >= end {
            continue;
        }
        let target = tree
            .by_phandle(phandle)
            .map_err(|error| MapError::Phandle { entry, error })?;
        let out = out_base
            .checked_add(masked - base)
            .ok_or(MapError::Overflow { entry })?;
        return Ok(Some((target.id(), out)));
    }
    Ok(None)
}

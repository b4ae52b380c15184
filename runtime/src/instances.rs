//! Main and cache instances of one IOMMU family (a spec's
//! `main property "NAME";`).
//!
//! Renesas R-Car Gen3/Gen4 IPMMUs come in two kinds: the main IPMMU
//! (`ipmmu_mm`) holds the translation contexts, and each cache IPMMU in
//! front of a group of masters points at it with `renesas,ipmmu-main =
//! <&ipmmu_mm INDEX>` and uses its contexts. Linux's `ipmmu_probe` treats a
//! node with the property as a cache and makes it wait (`-EPROBE_DEFER`)
//! until a main IPMMU of the driver has probed (`ipmmu_find_root`, which
//! looks at the driver's devices, not at the phandle's value); only cache
//! IPMMUs are registered with the IOMMU core. These helpers answer the same
//! questions from the tree, bounded by its node count.

use crate::fdt::{DeviceTree, Node, PhandleError};

/// Whether `node` is a cache instance: it has `property`.
pub fn is_cache(node: Node<'_>, property: &str) -> bool {
    node.has_property(property)
}

/// The main instance Linux's `ipmmu_find_root` settles on: of the available
/// nodes compatible with a string of `family` and without `property`, the
/// last in document order (the driver's device list is in probe order,
/// which follows the tree, and the search keeps the last root it meets).
/// `None` when the tree has none: the cache instances never come up.
pub fn main_instance<'a>(
    tree: DeviceTree<'a>,
    property: &str,
    family: &[&str],
) -> Option<Node<'a>> {
    tree.nodes()
        .filter(|n| {
            n.is_available()
                && !n.has_property(property)
                && family.iter().any(|c| n.is_compatible(c))
        })
        .last()
}

/// The node `property` names (its first cell is a phandle; cells after it,
/// such as the IPMMU's interrupt bit index, are not read). `None` when the
/// node lacks the property; an empty property is a phandle of 0.
pub fn named_main<'a>(node: Node<'a>, property: &str) -> Option<Result<Node<'a>, PhandleError>> {
    let p = node.property(property)?;
    let phandle = p.cells().and_then(|c| c.get(0)).unwrap_or(0);
    Some(node.tree().by_phandle(phandle))
}

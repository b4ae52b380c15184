//! Which nodes are DMA masters: the nodes Linux's boot-time
//! `of_platform_default_populate` turns into devices, each of which gets
//! `of_dma_configure` when its driver probes (`platform_dma_configure`,
//! `amba_dma_configure`), whether or not it names an IOMMU.
//!
//! The population rule (drivers/of/platform.c, `of_platform_bus_create`
//! with `strict` set): starting at the root's children, a node gets a
//! device when it has `compatible`, its `status` is okay
//! (`of_device_is_available`) and it is not an OPP table
//! (`of_skipped_node_table`); its children are populated only when it got a
//! device and matches `of_default_bus_match_table` (`simple-bus`,
//! `simple-mfd`, `isa`, `arm,amba-bus`). An `arm,primecell` node becomes an
//! AMBA device and its children are not populated.
//!
//! Linux configures DMA for every such device; iommugen lists only those
//! with `reg`: a node without registers has no way to be told to start a
//! transfer (fixed regulators, `gpio-keys`, PSCI), and listing them would
//! bury the masters. Nodes that name IOMMUs are listed wherever they sit
//! (a driver may populate its own children, as dwc3 glue does).

use iommugen_runtime::fdt::{DeviceTree, Node};

/// `of_default_bus_match_table`: buses whose children are populated.
const DEFAULT_BUSES: &[&[u8]] = &[b"simple-bus", b"simple-mfd", b"isa", b"arm,amba-bus"];

fn compatible_with(node: Node<'_>, wanted: &[&[u8]]) -> bool {
    node.property("compatible")
        .is_some_and(|p| p.strings().any(|s| wanted.contains(&s)))
}

/// For every node (indexed by `NodeId`), whether the default population
/// creates a device for it. One pass in document order: a parent's answer
/// is known before its children's.
pub fn populated(tree: &DeviceTree<'_>) -> Vec<bool> {
    let mut device = vec![false; tree.len()];
    // Whether the node's children are populated (the root's are).
    let mut populates = vec![false; tree.len()];
    for node in tree.nodes() {
        let i = node.id().0 as usize;
        let Some(parent) = node.parent() else {
            if let Some(p) = populates.get_mut(i) {
                *p = true;
            }
            continue;
        };
        let under_bus = populates
            .get(parent.id().0 as usize)
            .copied()
            .unwrap_or(false);
        let created = under_bus
            && node.has_property("compatible")
            && node.is_available()
            && !compatible_with(node, &[b"operating-points-v2"]);
        if let Some(d) = device.get_mut(i) {
            *d = created;
        }
        if let Some(p) = populates.get_mut(i) {
            *p = created
                && compatible_with(node, DEFAULT_BUSES)
                && !compatible_with(node, &[b"arm,primecell"]);
        }
    }
    device
}

/// The masters `iommugen dt` reports: nodes naming IOMMUs, and populated
/// devices with registers.
pub fn is_dma_master(node: Node<'_>, populated: &[bool]) -> bool {
    node.has_property("iommus")
        || (populated
            .get(node.id().0 as usize)
            .copied()
            .unwrap_or(false)
            && node.has_property("reg"))
}

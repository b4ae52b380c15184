//! The tree indexed once: every node with its parent, and phandles sorted
//! for binary search. Storage is the caller's, so the runtime needs no heap.

use super::blob::{Fdt, FdtError, Token};
use super::prop::{Property, PropertyIter};

/// A node's index in [`DeviceTree`] order (depth-first, document order).
/// The root is `NodeId(0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

const NO_PARENT: u32 = u32::MAX;

/// One node's place in the blob. Filled by [`DeviceTree::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeEntry {
    /// Structure offset of the node's name.
    name: u32,
    /// Structure offset of the node's first property token.
    props: u32,
    parent: u32,
    /// One past the node's last descendant: lets `children` hop from
    /// sibling to sibling instead of testing every later node.
    end: u32,
    /// Which of the [`KNOWN`] properties the node has: lets the boot flow's
    /// lookups of absent properties skip the scan.
    known: u16,
}

/// Properties the boot flow asks about on (nearly) every node.
const KNOWN: [&[u8]; 13] = [
    b"compatible",
    b"status",
    b"iommus",
    b"#iommu-cells",
    b"dma-coherent",
    b"dma-noncoherent",
    b"dma-ranges",
    b"iommu-map",
    b"iommu-map-mask",
    b"#address-cells",
    b"#size-cells",
    b"phandle",
    b"linux,phandle",
];

const PHANDLE_BITS: u16 = 1 << 11 | 1 << 12;

fn known_bit(name: &[u8]) -> Option<u16> {
    KNOWN.iter().position(|k| *k == name).map(|i| 1 << i)
}

/// Remembers which strings-block offsets name a [`KNOWN`] property: dtc
/// stores each name once, so nearly every property hits the cache and is
/// classified without comparing text.
struct NameCache {
    slots: [(u32, u16); 32],
}

impl NameCache {
    fn new() -> Self {
        // Slot `i` starts out holding an offset that maps to slot `i + 1`,
        // so no lookup can hit it before it is filled (a fixed sentinel
        // such as `u32::MAX` is itself a possible name offset, whose
        // lookup would skip validation).
        let mut slots = [(0, 0); 32];
        for (i, slot) in slots.iter_mut().enumerate() {
            slot.0 = (i as u32 + 1) % 32;
        }
        Self { slots }
    }

    /// The name's [`KNOWN`] bit (0 for others). A name offset outside the
    /// strings block, or a name not terminated inside it, is an error, as
    /// libfdt's `fdt_get_string` makes it: dropping the property would
    /// silently change the tree. `at` is the property's structure offset.
    fn bit(&mut self, fdt: &Fdt<'_>, name_off: u32, at: u32) -> Result<u16, FdtError> {
        let slot = &mut self.slots[(name_off as usize) % 32];
        if slot.0 == name_off {
            return Ok(slot.1);
        }
        let name = fdt.string(name_off).ok_or(FdtError::BadNameOffset {
            offset: at,
            name_off,
        })?;
        let bit = known_bit(name).unwrap_or(0);
        *slot = (name_off, bit);
        Ok(bit)
    }
}

impl NodeEntry {
    pub const EMPTY: NodeEntry = NodeEntry {
        name: 0,
        props: 0,
        parent: NO_PARENT,
        end: 0,
        known: 0,
    };
}

/// A phandle and the node that declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhandleEntry {
    phandle: u32,
    node: u32,
}

impl PhandleEntry {
    pub const EMPTY: PhandleEntry = PhandleEntry {
        phandle: 0,
        node: 0,
    };
}

/// A phandle lookup that did not give exactly one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhandleError {
    /// No node declares it.
    Dangling(u32),
    /// Several nodes declare it.
    Duplicate(u32),
}

/// An indexed device tree.
#[derive(Clone, Copy, Debug)]
pub struct DeviceTree<'a> {
    fdt: Fdt<'a>,
    nodes: &'a [NodeEntry],
    phandles: &'a [PhandleEntry],
}

impl<'a> DeviceTree<'a> {
    /// Count nodes and phandles so a host can size the storage exactly.
    pub fn measure(fdt: &Fdt<'_>) -> Result<(usize, usize), FdtError> {
        let mut cursor = fdt.tokens();
        let (mut nodes, mut phandles, mut depth) = (0usize, 0usize, 0usize);
        let mut names = NameCache::new();
        loop {
            let at = cursor.position();
            match cursor.next_token()? {
                Token::BeginNode { .. } => {
                    nodes += 1;
                    depth += 1;
                }
                Token::EndNode => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or(FdtError::Unbalanced { offset: at })?;
                }
                Token::Prop { name_off, .. } => {
                    if names.bit(fdt, name_off, at)? & PHANDLE_BITS != 0 {
                        phandles += 1;
                    }
                }
                Token::End => break,
            }
        }
        Ok((nodes, phandles))
    }

    /// Index `fdt` into `nodes` and `phandles`. Running out of either is an
    /// error; malformed structure is an error; nothing panics.
    pub fn new(
        fdt: Fdt<'a>,
        nodes: &'a mut [NodeEntry],
        phandles: &'a mut [PhandleEntry],
    ) -> Result<Self, FdtError> {
        let mut cursor = fdt.tokens();
        let (mut n, mut p) = (0usize, 0usize);
        let mut current = NO_PARENT;
        let mut roots = 0u32;
        let mut names = NameCache::new();
        loop {
            let at = cursor.position();
            match cursor.next_token()? {
                Token::BeginNode { props, .. } => {
                    if current == NO_PARENT {
                        roots += 1;
                        if roots > 1 {
                            return Err(FdtError::Unbalanced { offset: at });
                        }
                    }
                    let slot = nodes
                        .get_mut(n)
                        .ok_or(FdtError::TooManyNodes { capacity: n })?;
                    *slot = NodeEntry {
                        name: at + 4,
                        props,
                        parent: current,
                        end: 0,
                        known: 0,
                    };
                    current = n as u32;
                    n += 1;
                }
                Token::EndNode => {
                    if current == NO_PARENT {
                        return Err(FdtError::Unbalanced { offset: at });
                    }
                    let closing = &mut nodes[current as usize];
                    closing.end = n as u32;
                    current = closing.parent;
                }
                Token::Prop { name_off, value } => {
                    if current == NO_PARENT {
                        return Err(FdtError::Unbalanced { offset: at });
                    }
                    let bit = names.bit(&fdt, name_off, at)?;
                    nodes[current as usize].known |= bit;
                    if bit & PHANDLE_BITS != 0 {
                        let phandle = Property { name_off, value }.as_u32();
                        // Linux keeps only valid phandles; 0 and ~0 mean "none".
                        if let Some(ph) = phandle.filter(|&v| v != 0 && v != u32::MAX) {
                            // A node with both `phandle` and `linux,phandle`
                            // (old dtc output) declares the same value twice.
                            let dup = p > 0
                                && phandles[p - 1]
                                    == PhandleEntry {
                                        phandle: ph,
                                        node: current,
                                    };
                            if !dup {
                                let slot = phandles
                                    .get_mut(p)
                                    .ok_or(FdtError::TooManyPhandles { capacity: p })?;
                                *slot = PhandleEntry {
                                    phandle: ph,
                                    node: current,
                                };
                                p += 1;
                            }
                        }
                    }
                }
                Token::End => break,
            }
        }
        if current != NO_PARENT || n == 0 {
            return Err(FdtError::Unbalanced {
                offset: cursor.position(),
            });
        }
        let phandles = &mut phandles[..p];
        phandles.sort_unstable_by_key(|e| (e.phandle, e.node));
        Ok(DeviceTree {
            fdt,
            nodes: &nodes[..n],
            phandles,
        })
    }

    pub fn fdt(&self) -> &Fdt<'a> {
        &self.fdt
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn root(&self) -> Node<'a> {
        Node {
            tree: *self,
            id: NodeId(0),
        }
    }

    pub fn node(&self, id: NodeId) -> Option<Node<'a>> {
        ((id.0 as usize) < self.nodes.len()).then_some(Node { tree: *self, id })
    }

    /// Every node in document order.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let tree = *self;
        (0..self.nodes.len() as u32).map(move |i| Node {
            tree,
            id: NodeId(i),
        })
    }

    /// The node declaring `phandle` (binary search).
    pub fn by_phandle(&self, phandle: u32) -> Result<Node<'a>, PhandleError> {
        let i = self.phandles.partition_point(|e| e.phandle < phandle);
        match (self.phandles.get(i), self.phandles.get(i + 1)) {
            (Some(a), Some(b)) if a.phandle == phandle && b.phandle == phandle => {
                Err(PhandleError::Duplicate(phandle))
            }
            (Some(a), _) if a.phandle == phandle => Ok(Node {
                tree: *self,
                id: NodeId(a.node),
            }),
            _ => Err(PhandleError::Dangling(phandle)),
        }
    }

    /// The node at an absolute path such as `/soc/iommu@1000`.
    pub fn find_path(&self, path: &str) -> Option<Node<'a>> {
        let mut node = self.root();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.children().find(|c| {
                let name = c.name_bytes();
                name == part.as_bytes()
                    || (!part.contains('@')
                        && name.split(|&b| b == b'@').next() == Some(part.as_bytes()))
            })?;
        }
        Some(node)
    }
}

/// A node of an indexed tree: cheap to copy.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    tree: DeviceTree<'a>,
    id: NodeId,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Node<'_> {}

impl<'a> Node<'a> {
    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn tree(&self) -> DeviceTree<'a> {
        self.tree
    }

    /// False only when `name` is a [`KNOWN`] property the node lacks.
    fn may_have(&self, name: &str) -> bool {
        match known_bit(name.as_bytes()) {
            Some(bit) => self.entry().known & bit != 0,
            None => true,
        }
    }

    fn entry(&self) -> NodeEntry {
        self.tree.nodes[self.id.0 as usize]
    }

    /// The unit name with address, e.g. `iommu@2b400000`; empty for the root.
    pub fn name_bytes(&self) -> &'a [u8] {
        super::blob::cstr(self.tree.fdt.structure, self.entry().name as usize).unwrap_or(b"")
    }

    /// The name as text (`?` when it is not UTF-8).
    pub fn name(&self) -> &'a str {
        core::str::from_utf8(self.name_bytes()).unwrap_or("?")
    }

    pub fn parent(&self) -> Option<Node<'a>> {
        let parent = self.entry().parent;
        (parent != NO_PARENT).then_some(Node {
            tree: self.tree,
            id: NodeId(parent),
        })
    }

    /// Direct children, in document order.
    pub fn children(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let tree = self.tree;
        // The first child follows its parent; each next sibling follows the
        // previous one's subtree. Indexing made every `end` exceed its node.
        let end = self.entry().end;
        let mut next = self.id.0 + 1;
        core::iter::from_fn(move || {
            (next < end).then(|| {
                let id = next;
                next = tree.nodes[id as usize].end.max(id + 1);
                Node {
                    tree,
                    id: NodeId(id),
                }
            })
        })
    }

    /// Every property, in blob order.
    pub fn properties(&self) -> PropertyIter<'a> {
        PropertyIter::new(self.tree.fdt.cursor_at(self.entry().props))
    }

    pub fn property(&self, name: &str) -> Option<Property<'a>> {
        if !self.may_have(name) {
            return None;
        }
        let fdt = self.tree.fdt;
        self.properties()
            .find(|p| fdt.string_is(p.name_off, name.as_bytes()))
    }

    /// Several properties in one pass over the node (the boot flow's hot
    /// lookups ask for two or three names at a time).
    pub fn properties_named<const N: usize>(&self, names: [&str; N]) -> [Option<Property<'a>>; N] {
        let fdt = self.tree.fdt;
        let mut found = [None; N];
        if !names.iter().any(|n| self.may_have(n)) {
            return found;
        }
        for p in self.properties() {
            for (slot, name) in found.iter_mut().zip(names) {
                if slot.is_none() && fdt.string_is(p.name_off, name.as_bytes()) {
                    *slot = Some(p);
                }
            }
        }
        found
    }

    /// The property's name.
    pub fn property_name(&self, p: &Property<'a>) -> &'a str {
        self.tree
            .fdt
            .string(p.name_off)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("?")
    }

    pub fn has_property(&self, name: &str) -> bool {
        self.property(name).is_some()
    }

    /// A one-cell property.
    pub fn u32_property(&self, name: &str) -> Option<u32> {
        self.property(name).and_then(|p| p.as_u32())
    }

    /// The first cell of property `name`, if it is at least one cell long
    /// (Linux's `of_property_read_u32` and `of_property_read_u32_index(..,
    /// 0, ..)`: `reg` gives its first address cell).
    pub fn first_u32(&self, name: &str) -> Option<u32> {
        self.property(name).and_then(|p| p.cells()?.get(0))
    }

    /// Whether `compatible` lists `want` (Linux's `of_device_is_compatible`).
    pub fn is_compatible(&self, want: &str) -> bool {
        self.property("compatible")
            .is_some_and(|p| p.strings().any(|s| s == want.as_bytes()))
    }

    /// The available direct children compatible with any of `compatibles`,
    /// in document order: the devices Linux's `of_platform_populate`
    /// creates for a node's children that a driver matching these strings
    /// binds (Qualcomm's IOMMU context banks). One pass over the children.
    pub fn children_compatible<'c>(
        &self,
        compatibles: &'c [&'c str],
    ) -> impl Iterator<Item = Node<'a>> + 'c
    where
        'a: 'c,
    {
        self.children().filter(move |c| {
            c.is_available() && compatibles.iter().any(|want| c.is_compatible(want))
        })
    }

    /// `status` absent, `"okay"` or `"ok"` (the Devicetree Specification and
    /// Linux's `of_device_is_available`).
    pub fn is_available(&self) -> bool {
        match self.property("status") {
            None => true,
            Some(p) => matches!(p.as_str_bytes(), Some(b"okay") | Some(b"ok")),
        }
    }

    /// Write the absolute path, e.g. `/soc/iommu@2b400000`. Trees deeper
    /// than 64 levels print as `/…` followed by the last 64 names.
    pub fn write_path(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        const MAX: usize = 64;
        let mut chain = [NodeId(0); MAX];
        let (mut len, mut truncated) = (0usize, false);
        let mut n = *self;
        while let Some(parent) = n.parent() {
            if len == MAX {
                truncated = true;
                break;
            }
            chain[len] = n.id;
            len += 1;
            n = parent;
        }
        if len == 0 {
            return out.write_str("/");
        }
        if truncated {
            out.write_str("/\u{2026}")?;
        }
        for id in chain[..len].iter().rev() {
            out.write_str("/")?;
            out.write_str(
                Node {
                    tree: self.tree,
                    id: *id,
                }
                .name(),
            )?;
        }
        Ok(())
    }
}

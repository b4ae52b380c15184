//! Device names as Linux makes them, written into a caller's buffer.
//!
//! Drivers that refuse masters by name (Renesas IPMMU's allow-list of
//! names such as `ee100000.mmc`) compare against `dev_name(dev)`, so the
//! runtime must spell names exactly as Linux does:
//!
//! - a platform device made from a device-tree node gets the name of
//!   drivers/of/platform.c's `of_device_make_bus_id`: walking from the
//!   node towards the root, the first node whose first `reg` address
//!   translates to a CPU physical address (through every bus's `ranges`)
//!   gives `ADDR.NAME` (`%llx`, lower-case hex without `0x`; the node name
//!   without its unit address), and every node passed on the way without
//!   one prepends its full name (with unit address) and a `:`: a node
//!   `/a/b/c` where only `a` translates is `ADDR.a:b:c`; when none does,
//!   `b:c`-style names of the whole chain below the root;
//! - a PCI function is `DDDD:BB:DD.F` (`pci_setup_device`): the host
//!   bridge's domain (its `linux,pci-domain`, else 0: Linux numbers
//!   bridges without one in probe order, which a tree alone cannot tell),
//!   then the requester ID's bus, device and function.
//!
//! Translation follows drivers/of/address.c for the default bus: a bus
//! without `ranges` stops it (that node cannot be named by address), an
//! empty `ranges` maps 1:1, otherwise the child address must fall in one
//! entry's window. The address and size cell counts are the nearest
//! ancestor's `#address-cells` / `#size-cells` (Linux's defaults 1 and 1).
//! Linux's PCI and ISA bus rules are not modelled: a platform device
//! below a PCI bridge node is named as on a default bus.
//!
//! Work is bounded on hostile trees (a node a million levels deep): a
//! translation climbs at most [`MAX_LEVELS`] buses and looks at most as
//! far for a cell count (deeper: not translated; Linux's walk has no
//! limit, and no real tree comes near), and the chain of unnamed parents
//! stops once it could no longer fit the buffer.

use crate::fdt::{Cells, Node};

/// Linux's `OF_MAX_ADDR_CELLS`: wider addresses do not translate.
const MAX_ADDR_CELLS: u32 = 4;

/// The most buses a translation climbs, and the most ancestors searched
/// for a cell count.
pub const MAX_LEVELS: usize = 64;

/// Why no name could be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevNameError {
    /// The buffer is too small for the name.
    TooLong,
    /// The node is the root, which Linux makes no platform device of.
    Root,
}

impl core::fmt::Display for DevNameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DevNameError::TooLong => "the device name does not fit its buffer",
            DevNameError::Root => "the root node has no device name",
        })
    }
}

/// A `core::fmt::Write` into a byte slice that fails when full.
struct Buf<'b> {
    bytes: &'b mut [u8],
    len: usize,
}

impl core::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        let dst = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The nearest ancestor-or-self value of `name` (`#address-cells` or
/// `#size-cells`), else `default`, as Linux's `of_bus_n_addr_cells` walks;
/// `None` past [`MAX_LEVELS`] ancestors.
fn cells_from(start: Node<'_>, name: &str, default: u32) -> Option<u32> {
    let mut at = Some(start);
    for _ in 0..MAX_LEVELS {
        let Some(n) = at else {
            return Some(default);
        };
        if let Some(v) = n.u32_property(name) {
            return Some(v);
        }
        at = n.parent();
    }
    at.is_none().then_some(default)
}

/// The cell counts of addresses *in* bus `bus` (its children's `reg`).
fn bus_cells(bus: Node<'_>) -> Option<(u32, u32)> {
    Some((
        cells_from(bus, "#address-cells", 1)?,
        cells_from(bus, "#size-cells", 1)?,
    ))
}

/// `node`'s first `reg` address as a CPU physical address, or `None` when
/// Linux's `of_translate_address` gives `OF_BAD_ADDR`.
pub fn translate_reg(node: Node<'_>) -> Option<u64> {
    // `reg` first: most nodes on a long chain have none.
    let reg = node.property("reg")?.cells()?;
    let bus = node.parent()?;
    let (na, _) = bus_cells(bus)?;
    if na == 0 || na > MAX_ADDR_CELLS {
        return None;
    }
    let (addr, _) = reg.split(na as usize)?;
    let mut addr = addr.number();
    // Climb: at each bus, map the address through its `ranges` into its
    // parent's space, until the bus is the root.
    let mut child_bus = bus;
    let mut levels = 0;
    while let Some(parent) = child_bus.parent() {
        levels += 1;
        if levels > MAX_LEVELS {
            return None;
        }
        let (na, ns) = bus_cells(child_bus)?;
        let (pna, _) = bus_cells(parent)?;
        if pna == 0 || pna > MAX_ADDR_CELLS || ns > 2 {
            return None;
        }
        let ranges = child_bus.property("ranges")?;
        if !ranges.value.is_empty() {
            addr = map_range(ranges.cells()?, addr, na, pna, ns)?;
        }
        child_bus = parent;
    }
    Some(addr)
}

/// One bus level of `of_translate_one` on the default bus: the first
/// `ranges` entry whose child window holds `addr`.
fn map_range(mut rest: Cells<'_>, addr: u64, na: u32, pna: u32, ns: u32) -> Option<u64> {
    let entry = (na + pna + ns) as usize;
    if entry == 0 {
        return None;
    }
    while rest.len() >= entry {
        let (e, after) = rest.split(entry)?;
        rest = after;
        let (child, more) = e.split(na as usize)?;
        let (parent, size) = more.split(pna as usize)?;
        let (child, parent, size) = (child.number(), parent.number(), size.number());
        if addr >= child && addr - child < size {
            return parent.checked_add(addr - child);
        }
    }
    None
}

/// The node name without its unit address (`%pOFn`).
fn base_name(node: Node<'_>) -> &str {
    let name = node.name();
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// Write the platform-device name Linux gives `node` into `buf`.
pub fn platform_name<'b>(node: Node<'_>, buf: &'b mut [u8]) -> Result<&'b str, DevNameError> {
    use core::fmt::Write;
    if node.parent().is_none() {
        return Err(DevNameError::Root);
    }
    // The name is built leaf first, but written root first: find where the
    // walk stops, then write the chain from there down.
    let mut top = node;
    let mut addr = None;
    let mut depth = 0usize;
    loop {
        if let Some(a) = translate_reg(top) {
            addr = Some(a);
            break;
        }
        match top.parent() {
            Some(p) if p.parent().is_some() => {
                top = p;
                depth += 1;
                // Each node passed adds at least `:` and a character.
                if depth.saturating_mul(2) > buf.len() {
                    return Err(DevNameError::TooLong);
                }
            }
            _ => break,
        }
    }
    let mut out = Buf { bytes: buf, len: 0 };
    let written = (|| {
        match addr {
            Some(a) => write!(out, "{a:x}.{}", base_name(top))?,
            None => out.write_str(top.name())?,
        }
        // The nodes below `top`, outermost first: depth-1 .. 0 steps up
        // from `node`.
        for d in (0..depth).rev() {
            let mut n = node;
            for _ in 0..d {
                n = n.parent().ok_or(core::fmt::Error)?;
            }
            out.write_str(":")?;
            out.write_str(n.name())?;
        }
        Ok::<(), core::fmt::Error>(())
    })();
    written.map_err(|_| DevNameError::TooLong)?;
    let Buf { bytes, len } = out;
    // Only whole `&str`s were copied in, so the prefix is UTF-8.
    core::str::from_utf8(&bytes[..len]).map_err(|_| DevNameError::TooLong)
}

/// The PCI domain of host bridge `host`: `linux,pci-domain`, else 0.
pub fn pci_domain(host: Node<'_>) -> u32 {
    host.u32_property("linux,pci-domain").unwrap_or(0)
}

/// Write the name Linux gives PCI function `rid` in `domain`
/// (`0000:00:01.0`).
pub fn pci_name(domain: u32, rid: u32, buf: &mut [u8]) -> Result<&str, DevNameError> {
    use core::fmt::Write;
    let mut out = Buf { bytes: buf, len: 0 };
    write!(
        out,
        "{domain:04x}:{:02x}:{:02x}.{}",
        (rid >> 8) & 0xff,
        (rid >> 3) & 0x1f,
        rid & 7
    )
    .map_err(|_| DevNameError::TooLong)?;
    let Buf { bytes, len } = out;
    core::str::from_utf8(&bytes[..len]).map_err(|_| DevNameError::TooLong)
}

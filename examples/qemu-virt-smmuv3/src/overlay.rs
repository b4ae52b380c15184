//! The kernel extends the tree QEMU passes before the boot flow reads it,
//! as firmware adds nodes for what it set up: a node for the first edu
//! under the host bridge (a PCI function's node, `reg` holding its
//! bus/device/function, as Linux's `of_pci_find_child_device` matches), and
//! a `reserved-memory` child whose `iommu-addresses` says the edu already
//! uses IOVA `iova` for the region's memory (reserved-memory.yaml), named
//! by the edu's `memory-region`. The boot flow then installs that mapping
//! in the edu's domain before the edu is attached (`runtime/src/resv.rs`).
//!
//! The new blob is QEMU's, copied token by token with the two nodes added
//! at the end of the host bridge and of the root, and their property names
//! appended to the strings block.

use iommugen_runtime::fdt::{DeviceTree, Fdt, Token};

use crate::pci::Bdf;

/// A region the edu uses at IOVA `iova` for `size` bytes at `pa`.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub pa: u64,
    pub iova: u64,
    pub size: u64,
}

const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
/// Room for the added nodes and strings.
const SLACK: usize = 1024;

/// Property names the added nodes use, appended to the strings block.
const NAMES: [&str; 7] = [
    "reg",
    "phandle",
    "memory-region",
    "iommu-addresses",
    "#address-cells",
    "#size-cells",
    "ranges",
];

struct Out {
    buf: &'static mut [u8],
    at: usize,
    strings: u32,
}

impl Out {
    fn bytes(&mut self, b: &[u8]) -> Result<(), &'static str> {
        let end = self.at + b.len();
        self.buf
            .get_mut(self.at..end)
            .ok_or("the extended tree does not fit")?
            .copy_from_slice(b);
        self.at = end;
        Ok(())
    }
    fn word(&mut self, v: u32) -> Result<(), &'static str> {
        self.bytes(&v.to_be_bytes())
    }
    fn pad(&mut self) -> Result<(), &'static str> {
        while !self.at.is_multiple_of(4) {
            self.bytes(&[0])?;
        }
        Ok(())
    }
    fn begin(&mut self, name: core::fmt::Arguments<'_>) -> Result<(), &'static str> {
        self.word(BEGIN_NODE)?;
        core::fmt::write(self, name).map_err(|_| "the extended tree does not fit")?;
        self.bytes(&[0])?;
        self.pad()
    }
    fn prop(&mut self, name: &str, cells: &[u32]) -> Result<(), &'static str> {
        let index = NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or("unknown name")?;
        let off = self.strings
            + NAMES[..index]
                .iter()
                .map(|n| n.len() as u32 + 1)
                .sum::<u32>();
        self.word(PROP)?;
        self.word(4 * cells.len() as u32)?;
        self.word(off)?;
        cells.iter().try_for_each(|&c| self.word(c))
    }
}

impl core::fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.bytes(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

fn be32(b: &[u8], at: usize) -> Result<u32, &'static str> {
    b.get(at..at + 4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .ok_or("QEMU's tree header is short")
}

fn hi(v: u64) -> u32 {
    (v >> 32) as u32
}
fn lo(v: u64) -> u32 {
    v as u32
}

/// QEMU's `blob` (indexed as `tree`) with the edu at `bdf` under host
/// bridge node `host` (a child of the root) given a node and region `r`.
/// Returns the new blob, in memory that lives for the rest of the run.
pub fn extend(
    blob: &[u8],
    tree: &DeviceTree<'_>,
    host: &[u8],
    bdf: Bdf,
    r: Region,
) -> Result<&'static [u8], &'static str> {
    let fdt = Fdt::new(blob).map_err(|_| "malformed device tree")?;
    let (off_struct, off_strings) = (be32(blob, 8)? as usize, be32(blob, 12)? as usize);
    let (off_rsv, cpu) = (be32(blob, 16)? as usize, be32(blob, 28)?);
    let (size_strings, size_struct) = (be32(blob, 32)? as usize, be32(blob, 36)? as usize);
    let phandle = tree
        .nodes()
        .filter_map(|n| n.u32_property("phandle"))
        .max()
        .unwrap_or(0);
    let (edu_ph, region_ph) = (phandle + 1, phandle + 2);

    // QEMU pads its blob to 1 MiB; the copy holds only what is used.
    let total = 40 + 16 * 16 + size_struct + size_strings + SLACK;
    let buf = crate::BUMP
        .with(|b| b.slice::<u8>(total, 8))
        .ok_or("no RAM for the extended tree")?;
    let mut out = Out {
        buf,
        at: 40,
        strings: size_strings as u32,
    };
    // The memory reservation block, up to and including its empty entry.
    let rsv_len = (off_rsv..blob.len())
        .step_by(16)
        .find(|&at| {
            blob.get(at..at + 16)
                .is_some_and(|e| e.iter().all(|&b| b == 0))
        })
        .ok_or("QEMU's reservation block has no end")?
        + 16
        - off_rsv;
    if rsv_len > 16 * 16 {
        return Err("QEMU's tree has more memory reservations than this copy holds");
    }
    let new_rsv = out.at;
    out.bytes(&blob[off_rsv..off_rsv + rsv_len])?;
    let new_struct = out.at;
    let structure = &blob[off_struct..off_struct + size_struct];
    let mut cursor = fdt.tokens();
    let (mut depth, mut in_host) = (0u32, false);
    loop {
        let start = cursor.position() as usize;
        let token = cursor.next_token().map_err(|_| "malformed device tree")?;
        let end = cursor.position() as usize;
        match token {
            Token::BeginNode { name, .. } => {
                depth += 1;
                if depth == 2 {
                    in_host = name == host;
                }
            }
            Token::EndNode => {
                if depth == 2 && in_host {
                    out.begin(format_args!("edu@{:x}", bdf.dev))?;
                    if bdf.func != 0 {
                        return Err("the edu is not function 0");
                    }
                    let phys_hi = u32::from(bdf.bus) << 16 | u32::from(bdf.dev) << 11;
                    out.prop("reg", &[phys_hi, 0, 0, 0, 0])?;
                    out.prop("memory-region", &[region_ph])?;
                    out.prop("phandle", &[edu_ph])?;
                    out.word(END_NODE)?;
                }
                if depth == 1 {
                    out.begin(format_args!("reserved-memory"))?;
                    out.prop("#address-cells", &[2])?;
                    out.prop("#size-cells", &[2])?;
                    out.prop("ranges", &[])?;
                    out.begin(format_args!("edu-buffer@{:x}", r.pa))?;
                    out.prop("reg", &[hi(r.pa), lo(r.pa), hi(r.size), lo(r.size)])?;
                    // The edu's bus has 3 address cells (phys.hi, then the
                    // 64-bit bus address) and 2 size cells.
                    out.prop(
                        "iommu-addresses",
                        &[edu_ph, 0, hi(r.iova), lo(r.iova), hi(r.size), lo(r.size)],
                    )?;
                    out.prop("phandle", &[region_ph])?;
                    out.word(END_NODE)?;
                    out.word(END_NODE)?;
                }
                depth -= 1;
            }
            Token::Prop { .. } => {}
            Token::End => {
                out.bytes(&structure[start..end])?;
                break;
            }
        }
        out.bytes(&structure[start..end])?;
    }
    let struct_len = out.at - new_struct;
    let new_strings = out.at;
    out.bytes(&blob[off_strings..off_strings + size_strings])?;
    for name in NAMES {
        out.bytes(name.as_bytes())?;
        out.bytes(&[0])?;
    }
    let strings_len = out.at - new_strings;
    let totalsize = out.at;
    for (i, v) in [
        0xd00d_feed,
        totalsize as u32,
        new_struct as u32,
        new_strings as u32,
        new_rsv as u32,
        17,
        16,
        cpu,
        strings_len as u32,
        struct_len as u32,
    ]
    .into_iter()
    .enumerate()
    {
        out.buf[4 * i..4 * i + 4].copy_from_slice(&u32::to_be_bytes(v));
    }
    let buf: &'static [u8] = out.buf;
    Ok(&buf[..totalsize])
}

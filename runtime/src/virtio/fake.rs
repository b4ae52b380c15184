//! A virtio-iommu in memory for host tests: a configuration space with
//! QEMU's capability layout, and a device that answers the driver's
//! requests from the rings in the driver's DMA memory (keeping the
//! mappings and attachments it was asked for) and can misbehave on purpose:
//! jump the used index, name a descriptor it does not own, report a wrong
//! length or status, stay silent, refuse the features, hand back a bad
//! PROBE list, write fault reports.
//!
//! The device reaches "physical" memory only through pointers registered
//! with it ([`add_ram`]), never an integer-to-pointer cast, so the tests run
//! under Miri's strict provenance (as the SMMUv3 model does).

extern crate std;

use core::cell::RefCell;
use core::ptr::NonNull;
use std::vec::Vec;

use super::io::{DmaRegion, Io};
use super::pci::ConfigSpace;

std::thread_local! {
    static RAM: RefCell<Vec<(NonNull<u8>, usize)>> = const { RefCell::new(Vec::new()) };
}

/// Makes `region` reachable by the device at its physical addresses.
pub fn add_ram(region: &DmaRegion<'_>) {
    RAM.with(|r| r.borrow_mut().push((region.cpu_ptr(), region.len())));
}

fn host_ptr(phys: u64, size: usize) -> *mut u8 {
    RAM.with(|r| {
        for &(base, len) in r.borrow().iter() {
            let start = base.as_ptr().addr();
            let Some(off) = (phys as usize).checked_sub(start) else {
                continue;
            };
            if off.checked_add(size).is_some_and(|end| end <= len) {
                return base.as_ptr().with_addr(phys as usize);
            }
        }
        panic!("the device accessed {phys:#x}, outside the memory it was given")
    })
}

fn rd(phys: u64, out: &mut [u8]) {
    let p = host_ptr(phys, out.len());
    for (i, b) in out.iter_mut().enumerate() {
        // SAFETY: `host_ptr` checked the whole range lies in registered
        // test memory, which outlives the device.
        *b = unsafe { core::ptr::read_volatile(p.wrapping_add(i)) };
    }
}
fn wr(phys: u64, bytes: &[u8]) {
    let p = host_ptr(phys, bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        // SAFETY: as in `rd`.
        unsafe { core::ptr::write_volatile(p.wrapping_add(i), b) };
    }
}
fn rd16(phys: u64) -> u16 {
    let mut b = [0; 2];
    rd(phys, &mut b);
    u16::from_le_bytes(b)
}
fn rd32(phys: u64) -> u32 {
    let mut b = [0; 4];
    rd(phys, &mut b);
    u32::from_le_bytes(b)
}
fn rd64(phys: u64) -> u64 {
    u64::from(rd32(phys)) | u64::from(rd32(phys + 4)) << 32
}

/// 256 bytes of configuration space laid out as QEMU's virtio-iommu-pci:
/// a 64-bit BAR4 of 16 KiB holding common (0), ISR (0x1000), device
/// (0x2000) and notify (0x3000, multiplier 4) structures.
pub struct FakeConfig {
    bytes: [u8; 256],
    bar_mask: [u32; 6],
}

impl FakeConfig {
    pub fn qemu_like() -> FakeConfig {
        let mut c = FakeConfig {
            bytes: [0; 256],
            bar_mask: [0; 6],
        };
        c.write32(0, 0x1057_1af4);
        c.bytes[0x06] = 0x10; // status: capability list
        c.bytes[0x10 + 16] = 0b100; // BAR4: 64-bit memory
        c.bar_mask[4] = !0x3fff;
        c.bar_mask[5] = u32::MAX;
        c.bytes[0x34] = 0x40;
        let caps: [(u8, u8, u32, u32); 4] = [
            (1, 4, 0, 0x1000),
            (3, 4, 0x1000, 0x1000),
            (4, 4, 0x2000, 0x1000),
            (2, 4, 0x3000, 0x1000),
        ];
        let mut at = 0x40usize;
        for (i, &(kind, bar, off, len)) in caps.iter().enumerate() {
            let clen = if kind == 2 { 20 } else { 16 };
            let next = if i + 1 == caps.len() { 0 } else { at + 20 };
            c.bytes[at..at + 4].copy_from_slice(&[0x09, next as u8, clen, kind]);
            c.bytes[at + 4] = bar;
            c.bytes[at + 8..at + 12].copy_from_slice(&off.to_le_bytes());
            c.bytes[at + 12..at + 16].copy_from_slice(&len.to_le_bytes());
            if kind == 2 {
                c.bytes[at + 16..at + 20].copy_from_slice(&4u32.to_le_bytes());
            }
            at += 20;
        }
        c
    }
    pub fn set8(&mut self, at: u16, v: u8) {
        self.bytes[usize::from(at)] = v;
    }
}

impl ConfigSpace for FakeConfig {
    fn read32(&self, offset: u16) -> u32 {
        let o = usize::from(offset & !3).min(252);
        u32::from_le_bytes(self.bytes[o..o + 4].try_into().unwrap())
    }
    fn write32(&mut self, offset: u16, value: u32) {
        let o = usize::from(offset & !3).min(252);
        let bar = o.wrapping_sub(0x10) / 4;
        let v = if (0x10..0x28).contains(&o) {
            let keep = self.read32(offset) & !self.bar_mask[bar] & if bar == 5 { 0 } else { 0xf };
            (value & self.bar_mask[bar]) | keep
        } else {
            value
        };
        self.bytes[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// How the device misbehaves.
#[derive(Clone, Debug, Default)]
pub struct Hostile {
    /// Add this to the used index on the next answer.
    pub extra_used: u16,
    /// Name this descriptor in the next used entry.
    pub used_id: Option<u32>,
    /// Report this used length on the next answer.
    pub used_len: Option<u32>,
    /// Answer with this status byte.
    pub status: Option<u8>,
    /// Never answer requests.
    pub silent: bool,
    /// Clear FEATURES_OK when the driver sets it.
    pub refuse_features: bool,
    /// Change the configuration generation on every read.
    pub unstable_config: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Queue {
    size: u16,
    addr: [u64; 3],
    enabled: bool,
    avail_seen: u16,
    used_idx: u16,
}

/// A chain the driver made available: its head, the bytes of its
/// device-readable buffers, and its device-writable (address, length) parts.
struct Chain {
    head: u16,
    out: Vec<u8>,
    ins: Vec<(u64, u32)>,
}

/// The device's state; the driver reaches it through three [`Window`]s.
#[derive(Default)]
pub struct FakeDevice {
    pub status: u8,
    pub offered: u64,
    pub negotiated: u64,
    dev_select: u32,
    drv_select: u32,
    queue_select: u16,
    queues: [Queue; 2],
    generation: u8,
    pub page_size_mask: u64,
    pub input_range: (u64, u64),
    pub probe_size: u32,
    pub bypass: u8,
    /// The PROBE answer's property bytes (padded to `probe_size`).
    pub probe_props: Vec<u8>,
    pub hostile: Hostile,
    /// Requests received: (type, body bytes after the head).
    pub requests: Vec<(u8, Vec<u8>)>,
    /// (domain, start, end, phys) per live mapping; (endpoint, domain).
    pub mappings: Vec<(u32, u64, u64, u64)>,
    pub attached: Vec<(u32, u32)>,
}

impl FakeDevice {
    /// QEMU 7.2's answers: 4K pages, 64-bit input range, 32-bit domains,
    /// PROBE of 512 bytes, boot bypass on.
    pub fn qemu_like() -> RefCell<FakeDevice> {
        RefCell::new(FakeDevice {
            offered: 1 << 32 | 0b101_0111,
            page_size_mask: !0xfff,
            input_range: (0, u64::MAX),
            probe_size: 512,
            bypass: 1,
            ..FakeDevice::default()
        })
    }

    fn common_read(&mut self, off: usize) -> u32 {
        let q = self.queues[usize::from(self.queue_select.min(1))];
        match off {
            0x04 => (self.offered >> (32 * self.dev_select.min(1))) as u32,
            0x12 => 2,
            0x14 => u32::from(self.status),
            0x15 => {
                if self.hostile.unstable_config {
                    self.generation = self.generation.wrapping_add(1);
                }
                u32::from(self.generation)
            }
            0x16 => u32::from(self.queue_select),
            0x18 => u32::from(if q.size == 0 { 256 } else { q.size }),
            0x1c => u32::from(q.enabled),
            0x1e => u32::from(self.queue_select),
            _ => 0,
        }
    }

    fn common_write(&mut self, off: usize, v: u32) {
        let qs = usize::from(self.queue_select.min(1));
        match off {
            0x00 => self.dev_select = v,
            0x08 => self.drv_select = v,
            0x0c => {
                let shift = 32 * self.drv_select.min(1);
                self.negotiated =
                    (self.negotiated & !(0xffff_ffff << shift)) | u64::from(v) << shift;
            }
            0x14 => {
                self.status = v as u8;
                if v == 0 {
                    self.queues = Default::default();
                    self.negotiated = 0;
                }
                if self.hostile.refuse_features || self.negotiated & !self.offered != 0 {
                    self.status &= !8;
                }
            }
            0x16 => self.queue_select = v as u16,
            0x18 => self.queues[qs].size = v as u16,
            0x1c => self.queues[qs].enabled = v & 1 != 0,
            0x20..=0x37 => {
                let (i, hi) = ((off - 0x20) / 8, (off & 4) != 0);
                let a = &mut self.queues[qs].addr[i];
                *a = if hi {
                    (*a & 0xffff_ffff) | u64::from(v) << 32
                } else {
                    (*a & !0xffff_ffff) | u64::from(v)
                };
            }
            _ => {}
        }
    }

    fn device_read(&self, off: usize) -> u32 {
        match off {
            0 => self.page_size_mask as u32,
            4 => (self.page_size_mask >> 32) as u32,
            8 => self.input_range.0 as u32,
            12 => (self.input_range.0 >> 32) as u32,
            16 => self.input_range.1 as u32,
            20 => (self.input_range.1 >> 32) as u32,
            28 => u32::MAX,
            32 => self.probe_size,
            36 => u32::from(self.bypass),
            _ => 0,
        }
    }

    /// Takes the next available chain of queue `q`.
    fn pop(&mut self, q: usize) -> Option<Chain> {
        let qu = &mut self.queues[q];
        if !qu.enabled || qu.size == 0 || rd16(qu.addr[1] + 2) == qu.avail_seen {
            return None;
        }
        let head = rd16(qu.addr[1] + 4 + 2 * u64::from(qu.avail_seen % qu.size));
        qu.avail_seen = qu.avail_seen.wrapping_add(1);
        let (mut out, mut ins, mut i) = (Vec::new(), Vec::new(), head);
        for _ in 0..qu.size {
            let d = qu.addr[0] + 16 * u64::from(i);
            let (addr, len, flags, next) = (rd64(d), rd32(d + 8), rd16(d + 12), rd16(d + 14));
            if flags & 2 != 0 {
                ins.push((addr, len));
            } else {
                let mut b = std::vec![0; len as usize];
                rd(addr, &mut b);
                out.extend_from_slice(&b);
            }
            if flags & 1 == 0 {
                break;
            }
            i = next;
        }
        Some(Chain { head, out, ins })
    }

    fn push_used(&mut self, q: usize, head: u16, len: u32) {
        let h = core::mem::take(&mut self.hostile.extra_used);
        let id = self.hostile.used_id.take().unwrap_or(u32::from(head));
        let len = self.hostile.used_len.take().unwrap_or(len);
        let qu = &mut self.queues[q];
        let e = qu.addr[2] + 4 + 8 * u64::from(qu.used_idx % qu.size);
        wr(e, &id.to_le_bytes());
        wr(e + 4, &len.to_le_bytes());
        qu.used_idx = qu.used_idx.wrapping_add(1).wrapping_add(h);
        wr(qu.addr[2] + 2, &qu.used_idx.to_le_bytes());
    }

    fn serve(&mut self) {
        if self.hostile.silent {
            return;
        }
        while let Some(Chain { head, out, ins }) = self.pop(0) {
            let Some(&(tail_at, in_len)) = ins.last() else {
                continue;
            };
            let body = out.get(4..).unwrap_or(&[]).to_vec();
            let le32 = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().unwrap());
            let le64 = |at: usize| u64::from(le32(at)) | u64::from(le32(at + 4)) << 32;
            let mut status = 0u8;
            let mut written = 4u32;
            match out[0] {
                1 => self.attached.push((le32(4), le32(0))),
                2 => self.attached.retain(|&(e, d)| (e, d) != (le32(4), le32(0))),
                3 => {
                    let (d, s, e, p) = (le32(0), le64(4), le64(12), le64(20));
                    if self
                        .mappings
                        .iter()
                        .any(|m| m.0 == d && m.1 <= e && s <= m.2)
                    {
                        status = 4;
                    } else {
                        self.mappings.push((d, s, e, p));
                    }
                }
                4 => {
                    let (d, s, e) = (le32(0), le64(4), le64(12));
                    self.mappings
                        .retain(|m| !(m.0 == d && s <= m.1 && m.2 <= e));
                }
                5 => {
                    let mut props = self.probe_props.clone();
                    props.resize(self.probe_size as usize, 0);
                    wr(tail_at, &props);
                    written += self.probe_size;
                }
                _ => status = 2,
            }
            self.requests.push((out[0], body));
            let status = self.hostile.status.take().unwrap_or(status);
            wr(tail_at + u64::from(in_len) - 4, &[status, 0, 0, 0]);
            self.push_used(0, head, written);
        }
    }

    /// Writes a fault report into the next event buffer; false if none.
    pub fn fault(&mut self, reason: u8, flags: u32, endpoint: u32, address: u64) -> bool {
        let Some(Chain { head, ins, .. }) = self.pop(1) else {
            return false;
        };
        let mut rec = [0u8; 24];
        rec[0] = reason;
        rec[4..8].copy_from_slice(&flags.to_le_bytes());
        rec[8..12].copy_from_slice(&endpoint.to_le_bytes());
        rec[16..24].copy_from_slice(&address.to_le_bytes());
        wr(ins[0].0, &rec);
        self.push_used(1, head, 24);
        true
    }
}

/// Which window of the device a [`Window`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Common,
    Notify,
    Device,
}

/// One register window onto a [`FakeDevice`].
pub struct Window<'d>(pub &'d RefCell<FakeDevice>, pub Which);

impl Io for Window<'_> {
    fn read8(&self, offset: usize) -> u8 {
        self.read32(offset) as u8
    }
    fn read16(&self, offset: usize) -> u16 {
        self.read32(offset) as u16
    }
    fn read32(&self, offset: usize) -> u32 {
        let mut d = self.0.borrow_mut();
        match self.1 {
            Which::Common => d.common_read(offset),
            Which::Device => d.device_read(offset),
            Which::Notify => 0,
        }
    }
    fn write8(&mut self, offset: usize, value: u8) {
        self.write32(offset, value.into())
    }
    fn write16(&mut self, offset: usize, value: u16) {
        self.write32(offset, value.into())
    }
    fn write32(&mut self, offset: usize, value: u32) {
        let mut d = self.0.borrow_mut();
        match self.1 {
            Which::Common => d.common_write(offset, value),
            Which::Device if offset == 36 => d.bypass = value as u8,
            Which::Device => {}
            Which::Notify if value == 0 => d.serve(),
            Which::Notify => {}
        }
    }
}

//! Bring-up of a virtio-iommu (reset, feature negotiation, configuration,
//! two split queues), its requests (one in flight at a time, polled with a
//! spin budget), its event queue, and the boot flow's
//! [`RequestQueue`] over it.

use core::cell::RefCell;

use super::io::{DmaRegion, Io};
use super::proto::{self, Fault, Request, ResvMem};
use super::queue::{Buffer, SplitQueue, MAX_SIZE, QUEUE_BYTES};
use super::Error;
use crate::domain::MapError;
use crate::requests::RequestQueue;
use crate::Prot;

/// Common configuration registers (virtio-pci).
mod common {
    pub const DEVICE_FEATURE_SELECT: usize = 0x00;
    pub const DEVICE_FEATURE: usize = 0x04;
    pub const DRIVER_FEATURE_SELECT: usize = 0x08;
    pub const DRIVER_FEATURE: usize = 0x0c;
    pub const NUM_QUEUES: usize = 0x12;
    pub const DEVICE_STATUS: usize = 0x14;
    pub const CONFIG_GENERATION: usize = 0x15;
    pub const QUEUE_SELECT: usize = 0x16;
    pub const QUEUE_SIZE: usize = 0x18;
    pub const QUEUE_ENABLE: usize = 0x1c;
    pub const QUEUE_NOTIFY_OFF: usize = 0x1e;
    pub const QUEUE_DESC: usize = 0x20;
    pub const QUEUE_DRIVER: usize = 0x28;
    pub const QUEUE_DEVICE: usize = 0x30;
}

const S_ACKNOWLEDGE: u8 = 1;
const S_DRIVER: u8 = 2;
const S_DRIVER_OK: u8 = 4;
const S_FEATURES_OK: u8 = 8;
const S_NEEDS_RESET: u8 = 0x40;
const S_FAILED: u8 = 0x80;

pub const F_INPUT_RANGE: u32 = 0;
pub const F_DOMAIN_RANGE: u32 = 1;
pub const F_MAP_UNMAP: u32 = 2;
pub const F_PROBE: u32 = 4;
pub const F_BYPASS_CONFIG: u32 = 6;
pub const F_VERSION_1: u32 = 32;

/// Device configuration offsets.
const CFG_PAGE_SIZE_MASK: usize = 0;
const CFG_INPUT_START: usize = 8;
const CFG_INPUT_END: usize = 16;
const CFG_DOMAIN_START: usize = 24;
const CFG_DOMAIN_END: usize = 28;
const CFG_PROBE_SIZE: usize = 32;
const CFG_BYPASS: usize = 36;

/// Where things sit in the DMA memory.
const REQ_QUEUE: usize = 0;
const EVT_QUEUE: usize = QUEUE_BYTES;
const OUT: usize = 2 * QUEUE_BYTES;
const EVENTS: usize = OUT + 128;
const IN: usize = 1024;
/// The longest PROBE property list the driver reads (QEMU's is 512).
pub const PROBE_MAX: usize = 512;
/// Bytes of DMA memory the driver needs for a device whose PROBE
/// properties take `probe_size` bytes (0 without PROBE).
pub const fn memory_bytes(probe_size: u32) -> usize {
    IN + probe_size as usize + proto::TAIL
}

/// The transport's three register windows.
#[derive(Debug)]
pub struct Regions<I> {
    pub common: I,
    pub notify: I,
    /// From the notification capability: the doorbell spacing and the
    /// window's length.
    pub notify_multiplier: u32,
    pub notify_length: u32,
    pub device: I,
}

/// Driver options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Polls of the used ring (or the status register) before a request,
    /// a reset or a status change counts as [`Error::Timeout`].
    pub spins: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { spins: 10_000_000 }
    }
}

/// What the device said about itself (negotiated features included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub features: u64,
    pub page_size_mask: u64,
    pub input_start: u64,
    pub input_end: u64,
    pub domain_start: u32,
    pub domain_end: u32,
    /// Bytes of PROBE properties (0: no PROBE).
    pub probe_size: u32,
}

/// A virtio-iommu, up and running.
#[derive(Debug)]
pub struct VirtioIommu<'m, I: Io> {
    regs: Regions<I>,
    mem: DmaRegion<'m>,
    req: SplitQueue,
    evt: SplitQueue,
    notify: [usize; 2],
    config: Config,
    spins: u32,
    broken: bool,
    last_error: Option<Error>,
}

/// What bring-up set up.
struct Up {
    config: Config,
    req: SplitQueue,
    evt: SplitQueue,
    notify: [usize; 2],
}

fn bounded(spins: u32, mut done: impl FnMut() -> bool) -> Result<(), Error> {
    for _ in 0..spins {
        if done() {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(Error::Timeout)
}

impl<'m, I: Io> VirtioIommu<'m, I> {
    /// Resets and initialises the device, sets up the request and event
    /// queues in `mem`, turns boot bypass off where the device lets the
    /// driver choose, and posts the event buffers. On an error the device
    /// is left with FAILED set.
    pub fn new(
        mut regs: Regions<I>,
        mut mem: DmaRegion<'m>,
        options: Options,
    ) -> Result<Self, Error> {
        let spins = options.spins;
        match Self::bring_up(&mut regs, &mut mem, spins) {
            Ok(Up {
                config,
                req,
                evt,
                notify,
            }) => {
                let mut d = VirtioIommu {
                    regs,
                    mem,
                    req,
                    evt,
                    notify,
                    config,
                    spins,
                    broken: false,
                    last_error: None,
                };
                for i in 0..d.evt.size() {
                    d.post_event(i)?;
                }
                Ok(d)
            }
            Err(e) => {
                let s = regs.common.read8(common::DEVICE_STATUS);
                regs.common.write8(common::DEVICE_STATUS, s | S_FAILED);
                Err(e)
            }
        }
    }

    fn bring_up(regs: &mut Regions<I>, mem: &mut DmaRegion<'m>, spins: u32) -> Result<Up, Error> {
        let c = &mut regs.common;
        c.write8(common::DEVICE_STATUS, 0);
        bounded(spins, || c.read8(common::DEVICE_STATUS) == 0)?;
        c.write8(common::DEVICE_STATUS, S_ACKNOWLEDGE);
        c.write8(common::DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER);
        let mut offered = 0u64;
        for half in 0..2u32 {
            c.write32(common::DEVICE_FEATURE_SELECT, half);
            offered |= u64::from(c.read32(common::DEVICE_FEATURE)) << (32 * half);
        }
        for need in [F_VERSION_1, F_MAP_UNMAP] {
            if offered & 1 << need == 0 {
                return Err(Error::MissingFeature(need));
            }
        }
        let wanted = [
            F_VERSION_1,
            F_MAP_UNMAP,
            F_INPUT_RANGE,
            F_DOMAIN_RANGE,
            F_PROBE,
            F_BYPASS_CONFIG,
        ]
        .iter()
        .fold(0u64, |a, &b| a | 1 << b);
        let features = offered & wanted;
        for half in 0..2u32 {
            c.write32(common::DRIVER_FEATURE_SELECT, half);
            c.write32(common::DRIVER_FEATURE, (features >> (32 * half)) as u32);
        }
        c.write8(
            common::DEVICE_STATUS,
            S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK,
        );
        if c.read8(common::DEVICE_STATUS) & S_FEATURES_OK == 0 {
            return Err(Error::FeaturesRefused);
        }
        let config = Self::read_config(regs, features)?;
        if config.page_size_mask == 0 || config.input_end < config.input_start {
            return Err(Error::BadRange);
        }
        if memory_bytes(config.probe_size) > mem.len() {
            return Err(Error::NoMemory);
        }
        let c = &mut regs.common;
        if c.read16(common::NUM_QUEUES) < 2 {
            return Err(Error::MissingQueue(1));
        }
        let mut queues = [None, None];
        let mut notify = [0; 2];
        for q in 0..2u16 {
            c.write16(common::QUEUE_SELECT, q);
            let max = c.read16(common::QUEUE_SIZE);
            if max == 0 {
                return Err(Error::MissingQueue(q));
            }
            // The largest power of two the driver and the device both allow.
            let size = 1u16 << (15 - max.min(MAX_SIZE).leading_zeros());
            if q == 0 && size < 2 {
                return Err(Error::QueueSize(max));
            }
            let queue = SplitQueue::new(mem, [REQ_QUEUE, EVT_QUEUE][usize::from(q)], size)?;
            c.write16(common::QUEUE_SIZE, size);
            let (desc, driver, device) = queue.addresses(mem);
            for (reg, addr) in [
                (common::QUEUE_DESC, desc),
                (common::QUEUE_DRIVER, driver),
                (common::QUEUE_DEVICE, device),
            ] {
                c.write32(reg, addr as u32);
                c.write32(reg + 4, (addr >> 32) as u32);
            }
            let off =
                u64::from(c.read16(common::QUEUE_NOTIFY_OFF)) * u64::from(regs.notify_multiplier);
            notify[usize::from(q)] = usize::try_from(off).map_err(|_| Error::BadNotify(q))?;
            if off
                .checked_add(2)
                .is_none_or(|end| end > u64::from(regs.notify_length))
            {
                return Err(Error::BadNotify(q));
            }
            c.write16(common::QUEUE_ENABLE, 1);
            queues[usize::from(q)] = Some(queue);
        }
        if features & 1 << F_BYPASS_CONFIG != 0 {
            regs.device.write8(CFG_BYPASS, 0);
        }
        let c = &mut regs.common;
        c.write8(
            common::DEVICE_STATUS,
            S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
        );
        if c.read8(common::DEVICE_STATUS) & S_NEEDS_RESET != 0 {
            return Err(Error::NeedsReset);
        }
        let [Some(req), Some(evt)] = queues else {
            return Err(Error::MissingQueue(0));
        };
        Ok(Up {
            config,
            req,
            evt,
            notify,
        })
    }

    /// The device configuration, read until the generation is stable.
    fn read_config(regs: &Regions<I>, features: u64) -> Result<Config, Error> {
        let d = &regs.device;
        let r64 = |at| u64::from(d.read32(at)) | u64::from(d.read32(at + 4)) << 32;
        for _ in 0..16 {
            let before = regs.common.read8(common::CONFIG_GENERATION);
            let has = |bit: u32| features & 1 << bit != 0;
            let config = Config {
                features,
                page_size_mask: r64(CFG_PAGE_SIZE_MASK),
                input_start: if has(F_INPUT_RANGE) {
                    r64(CFG_INPUT_START)
                } else {
                    0
                },
                input_end: if has(F_INPUT_RANGE) {
                    r64(CFG_INPUT_END)
                } else {
                    u64::MAX
                },
                domain_start: if has(F_DOMAIN_RANGE) {
                    d.read32(CFG_DOMAIN_START)
                } else {
                    0
                },
                domain_end: if has(F_DOMAIN_RANGE) {
                    d.read32(CFG_DOMAIN_END)
                } else {
                    u32::MAX
                },
                probe_size: if has(F_PROBE) {
                    d.read32(CFG_PROBE_SIZE)
                } else {
                    0
                },
            };
            if regs.common.read8(common::CONFIG_GENERATION) == before {
                return Ok(config);
            }
        }
        Err(Error::ConfigUnstable)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The error behind the last refused [`RequestQueue`] call.
    pub fn last_error(&self) -> Option<Error> {
        self.last_error
    }

    fn doorbell(&mut self, q: u16) {
        self.regs.notify.write16(self.notify[usize::from(q)], q);
    }

    /// Sends `req` with `in_len` device-writable bytes (the tail last) and
    /// waits for the answer; returns the status.
    fn request(&mut self, req: &Request, in_len: usize) -> Result<(), Error> {
        if self.broken {
            return Err(Error::Broken);
        }
        let out = req.bytes();
        self.mem.write_bytes(OUT, out);
        self.mem.zero(IN, in_len);
        let chain = [
            Buffer {
                phys: self.mem.phys(OUT),
                len: out.len() as u32,
                writable: false,
            },
            Buffer {
                phys: self.mem.phys(IN),
                len: in_len as u32,
                writable: true,
            },
        ];
        self.req.submit(&mut self.mem, 0, &chain)?;
        self.doorbell(0);
        let answer = self.wait();
        if answer.is_err() {
            self.broken = true;
        }
        let used = answer?;
        if used.len as usize != in_len {
            self.broken = true;
            return Err(Error::BadUsedLength {
                len: used.len,
                max: in_len as u32,
            });
        }
        proto::status(self.mem.read8(IN + in_len - proto::TAIL))
    }

    fn wait(&mut self) -> Result<super::queue::Used, Error> {
        for i in 0..self.spins {
            if let Some(u) = self.req.take_used(&self.mem)? {
                return Ok(u);
            }
            if i % 1024 == 1023
                && self.regs.common.read8(common::DEVICE_STATUS) & S_NEEDS_RESET != 0
            {
                return Err(Error::NeedsReset);
            }
            core::hint::spin_loop();
        }
        Err(Error::Timeout)
    }

    fn check_domain(&self, domain: u32) -> Result<(), Error> {
        if domain < self.config.domain_start || domain > self.config.domain_end {
            return Err(Error::DomainOutOfRange(domain));
        }
        Ok(())
    }

    pub fn attach(&mut self, domain: u32, endpoint: u32) -> Result<(), Error> {
        self.check_domain(domain)?;
        self.request(&Request::attach(domain, endpoint), proto::TAIL)
    }

    pub fn detach(&mut self, domain: u32, endpoint: u32) -> Result<(), Error> {
        self.check_domain(domain)?;
        self.request(&Request::detach(domain, endpoint), proto::TAIL)
    }

    /// `[iova, iova + size)` inclusive end, checked against the input range
    /// and the smallest page size.
    fn range(&self, iova: u64, size: u64) -> Result<u64, Error> {
        let page = self.config.page_size_mask & self.config.page_size_mask.wrapping_neg();
        let end = iova.checked_add(size.checked_sub(1).ok_or(Error::BadRange)?);
        match end {
            Some(end)
                if (iova | size) & (page - 1) == 0
                    && iova >= self.config.input_start
                    && end <= self.config.input_end =>
            {
                Ok(end)
            }
            _ => Err(Error::BadRange),
        }
    }

    pub fn map(
        &mut self,
        domain: u32,
        iova: u64,
        phys: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), Error> {
        self.check_domain(domain)?;
        let end = self.range(iova, size)?;
        let page = self.config.page_size_mask & self.config.page_size_mask.wrapping_neg();
        if phys & (page - 1) != 0 || phys.checked_add(size - 1).is_none() {
            return Err(Error::BadRange);
        }
        if prot.contains(Prot::MMIO) {
            // VIRTIO_IOMMU_F_MMIO is not negotiated.
            return Err(Error::MissingFeature(5));
        }
        let mut flags = 0;
        if prot.contains(Prot::READ) {
            flags |= proto::MAP_F_READ;
        }
        if prot.contains(Prot::WRITE) {
            flags |= proto::MAP_F_WRITE;
        }
        self.request(&Request::map(domain, iova, end, phys, flags), proto::TAIL)
    }

    pub fn unmap(&mut self, domain: u32, iova: u64, size: u64) -> Result<(), Error> {
        self.check_domain(domain)?;
        let end = self.range(iova, size)?;
        self.request(&Request::unmap(domain, iova, end), proto::TAIL)
    }

    /// PROBE `endpoint`: its reserved regions into `out`; returns how many.
    pub fn probe(&mut self, endpoint: u32, out: &mut [ResvMem]) -> Result<usize, Error> {
        if self.config.features & 1 << F_PROBE == 0 {
            return Err(Error::MissingFeature(F_PROBE));
        }
        let size = self.config.probe_size as usize;
        let mut props = [0u8; PROBE_MAX];
        if size > PROBE_MAX {
            return Err(Error::NoMemory);
        }
        self.request(&Request::probe(endpoint), size + proto::TAIL)?;
        for (k, b) in props[..size].iter_mut().enumerate() {
            *b = self.mem.read8(IN + k);
        }
        proto::parse_probe(&props[..size], out)
    }

    fn post_event(&mut self, i: u16) -> Result<(), Error> {
        let at = EVENTS + proto::FAULT * usize::from(i);
        self.mem.zero(at, proto::FAULT);
        let b = Buffer {
            phys: self.mem.phys(at),
            len: proto::FAULT as u32,
            writable: true,
        };
        self.evt.submit(&mut self.mem, i, &[b])?;
        self.doorbell(1);
        Ok(())
    }

    /// The next fault report, if the device wrote one; its buffer goes
    /// back to the device.
    pub fn poll_event(&mut self) -> Result<Option<Fault>, Error> {
        let Some(u) = self.evt.take_used(&self.mem)? else {
            return Ok(None);
        };
        let at = EVENTS + proto::FAULT * usize::from(u.head);
        let mut rec = [0u8; proto::FAULT];
        for (k, b) in rec.iter_mut().enumerate() {
            *b = self.mem.read8(at + k);
        }
        self.post_event(u.head)?;
        if u.len as usize != proto::FAULT {
            return Err(Error::BadUsedLength {
                len: u.len,
                max: proto::FAULT as u32,
            });
        }
        proto::parse_fault(&rec).map(Some)
    }
}

/// The boot flow's view: the closest [`MapError`] for each driver error
/// (the driver's own error stays in [`VirtioIommu::last_error`]).
fn map_error(e: Error) -> MapError {
    use super::proto::Status;
    match e {
        Error::BadRange | Error::Status(Status::Range) => MapError::OutOfRange,
        Error::Status(Status::NoMem) => MapError::NoMemory,
        Error::Status(Status::NoEnt) => MapError::NotMapped,
        _ => MapError::Refused,
    }
}

impl<I: Io> RequestQueue for VirtioIommu<'_, I> {
    fn map(
        &mut self,
        domain: u32,
        iova: u64,
        phys: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), MapError> {
        let r = VirtioIommu::map(self, domain, iova, phys, size, prot);
        self.last_error = r.err();
        r.map_err(map_error)
    }

    /// The protocol reports no count: an OK means nothing is mapped in the
    /// range any more, so the whole range is reported.
    fn unmap(&mut self, domain: u32, iova: u64, size: u64) -> Result<u64, MapError> {
        let r = VirtioIommu::unmap(self, domain, iova, size);
        self.last_error = r.err();
        r.map(|()| size).map_err(map_error)
    }
}

/// One device shared by several domains.
impl<I: Io> RequestQueue for &RefCell<VirtioIommu<'_, I>> {
    fn map(
        &mut self,
        domain: u32,
        iova: u64,
        phys: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), MapError> {
        RequestQueue::map(&mut *self.borrow_mut(), domain, iova, phys, size, prot)
    }
    fn unmap(&mut self, domain: u32, iova: u64, size: u64) -> Result<u64, MapError> {
        RequestQueue::unmap(&mut *self.borrow_mut(), domain, iova, size)
    }
}

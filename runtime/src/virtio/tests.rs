//! The driver against the in-memory device: bring-up, every request, the
//! boot flow's request domain, fault reports, and a hostile device.

extern crate std;

use core::cell::RefCell;
use std::boxed::Box;

use super::driver::{memory_bytes, F_BYPASS_CONFIG, F_PROBE};
use super::fake::{add_ram, FakeDevice, Which, Window};
use super::proto::{Reason, ResvKind, ResvMem, Status};
use super::{DmaRegion, Error, Options, Regions, VirtioIommu};
use crate::domain::{Domain, MapError};
use crate::requests::RequestDomain;
use crate::Prot;

#[repr(C, align(16))]
struct Mem([u8; 2048]);

const RW: Prot = Prot::READ.union(Prot::WRITE);
const SPINS: Options = Options { spins: 64 };

/// Leaked DMA memory the device can reach.
fn memory() -> DmaRegion<'static> {
    let m = Box::leak(Box::new(Mem([0; 2048])));
    let r = DmaRegion::identity(&mut m.0).unwrap();
    add_ram(&r);
    r
}

fn regions(dev: &RefCell<FakeDevice>) -> Regions<Window<'_>> {
    Regions {
        common: Window(dev, Which::Common),
        notify: Window(dev, Which::Notify),
        notify_multiplier: 4,
        notify_length: 0x1000,
        device: Window(dev, Which::Device),
    }
}

fn up(dev: &RefCell<FakeDevice>) -> VirtioIommu<'static, Window<'_>> {
    VirtioIommu::new(regions(dev), memory(), SPINS).unwrap()
}

fn resv_prop(sub: u8, start: u64, end: u64) -> [u8; 24] {
    let mut p = [0u8; 24];
    p[0] = 1;
    p[2] = 20;
    p[4] = sub;
    p[8..16].copy_from_slice(&start.to_le_bytes());
    p[16..24].copy_from_slice(&end.to_le_bytes());
    p
}

#[test]
fn brings_the_device_up_and_negotiates() {
    let dev = FakeDevice::qemu_like();
    let d = up(&dev);
    let f = dev.borrow();
    assert_eq!(f.status, 1 | 2 | 4 | 8);
    assert_eq!(f.negotiated & 1 << F_PROBE, 1 << F_PROBE);
    assert_eq!(f.negotiated & 1 << F_BYPASS_CONFIG, 1 << F_BYPASS_CONFIG);
    assert_eq!(f.bypass, 0, "boot bypass turned off");
    assert_eq!(d.config().probe_size, 512);
    assert!(memory_bytes(512) <= 2048);
}

#[test]
fn attach_map_unmap_and_probe_reach_the_device() {
    let dev = FakeDevice::qemu_like();
    let mut p = resv_prop(1, 0x800_0000, 0x80f_ffff).to_vec();
    p.extend_from_slice(&resv_prop(0, 0x1000_0000, 0x1000_0fff));
    dev.borrow_mut().probe_props = p;
    let mut d = up(&dev);
    d.attach(1, 0x10).unwrap();
    d.map(1, 0x1000, 0x4000_0000, 0x2000, RW).unwrap();
    assert_eq!(dev.borrow().mappings, [(1, 0x1000, 0x2fff, 0x4000_0000)]);
    // Overlap: the device says INVAL.
    assert_eq!(
        d.map(1, 0x2000, 0, 0x1000, RW),
        Err(Error::Status(Status::Inval))
    );
    d.unmap(1, 0x1000, 0x2000).unwrap();
    assert!(dev.borrow().mappings.is_empty());
    let mut out = [ResvMem {
        kind: ResvKind::Reserved,
        start: 0,
        end: 0,
    }; 4];
    assert_eq!(d.probe(0x10, &mut out), Ok(2));
    assert_eq!(
        out[0],
        ResvMem {
            kind: ResvKind::Msi,
            start: 0x800_0000,
            end: 0x80f_ffff
        }
    );
    d.detach(1, 0x10).unwrap();
    assert!(dev.borrow().attached.is_empty());
    // Refused before the device: unaligned, domain out of range (none).
    assert_eq!(d.map(1, 0x1800, 0, 0x1000, RW), Err(Error::BadRange));
    assert_eq!(d.unmap(1, 0, 0), Err(Error::BadRange));
    assert_eq!(dev.borrow().requests.len(), 6);
}

#[test]
fn a_request_domain_sends_map_and_unmap() {
    let dev = FakeDevice::qemu_like();
    let viommu = RefCell::new(up(&dev));
    viommu.borrow_mut().attach(3, 0x10).unwrap();
    let table = RequestDomain::<_, 12, 48>::new(&viommu, 3);
    let mut words = [0u64; 64];
    let mut dom = Domain::new(table, &mut words, 0x10_0000, 0x10_0000, 12).unwrap();
    let iova = dom.map(0x4000_1000, 0x1000, RW, u64::MAX).unwrap();
    assert_eq!(
        dev.borrow().mappings,
        [(3, iova, iova + 0xfff, 0x4000_1000)]
    );
    dom.unmap(iova, 0x1000).unwrap();
    assert!(dev.borrow().mappings.is_empty());
    // A device error becomes the domain's error, the driver keeps why.
    dev.borrow_mut().hostile.status = Some(8);
    assert!(matches!(
        dom.map(0x4000_1000, 0x1000, RW, u64::MAX),
        Err(crate::domain::DomainError::Map(MapError::NoMemory))
    ));
    assert_eq!(
        viommu.borrow().last_error(),
        Some(Error::Status(Status::NoMem))
    );
}

#[test]
fn fault_reports_are_read_and_buffers_recycled() {
    let dev = FakeDevice::qemu_like();
    let mut d = up(&dev);
    assert_eq!(d.poll_event(), Ok(None));
    for round in 0..20u64 {
        assert!(dev.borrow_mut().fault(2, 0x100 | 2, 0x10, 0x1000 * round));
        let f = d.poll_event().unwrap().unwrap();
        assert_eq!(f.reason, Reason::Mapping);
        assert_eq!((f.endpoint, f.address), (0x10, Some(0x1000 * round)));
    }
    // An unlisted reason is an error, and the buffer still goes back.
    assert!(dev.borrow_mut().fault(77, 0, 1, 0));
    assert_eq!(d.poll_event(), Err(Error::BadEvent));
    assert!(dev.borrow_mut().fault(1, 0, 1, 0));
    assert_eq!(d.poll_event().unwrap().unwrap().address, None);
}

#[test]
fn hostile_answers_are_typed_errors() {
    type Spoil = fn(&mut FakeDevice);
    let cases: [(Spoil, Error); 6] = [
        (
            |f| f.hostile.extra_used = 3,
            Error::BadUsedIndex { index: 4, seen: 0 },
        ),
        (|f| f.hostile.used_id = Some(5), Error::BadUsedId(5)),
        (
            |f| f.hostile.used_id = Some(70_000),
            Error::BadUsedId(70_000),
        ),
        (
            |f| f.hostile.used_len = Some(999),
            Error::BadUsedLength { len: 999, max: 4 },
        ),
        (
            |f| f.hostile.used_len = Some(2),
            Error::BadUsedLength { len: 2, max: 4 },
        ),
        (|f| f.hostile.silent = true, Error::Timeout),
    ];
    for (spoil, want) in cases {
        let dev = FakeDevice::qemu_like();
        let mut d = up(&dev);
        spoil(&mut dev.borrow_mut());
        assert_eq!(d.attach(1, 1), Err(want));
        // The driver stops rather than reuse buffers the device may own.
        assert_eq!(d.attach(1, 1), Err(Error::Broken));
    }
    let dev = FakeDevice::qemu_like();
    let mut d = up(&dev);
    dev.borrow_mut().hostile.status = Some(42);
    assert_eq!(d.attach(1, 1), Err(Error::UnknownStatus(42)));
    // A status is an answer: the driver goes on.
    d.attach(1, 1).unwrap();
    // A PROBE list running past its buffer.
    let mut bad = resv_prop(0, 0, 0xfff);
    bad[2] = 0xff;
    bad[3] = 0x01;
    dev.borrow_mut().probe_props = bad.to_vec();
    let mut out = [ResvMem {
        kind: ResvKind::Reserved,
        start: 0,
        end: 0,
    }; 2];
    assert_eq!(d.probe(1, &mut out), Err(Error::BadProbe { at: 0 }));
}

#[test]
fn bring_up_failures_are_typed_errors() {
    let dev = FakeDevice::qemu_like();
    dev.borrow_mut().hostile.refuse_features = true;
    assert_eq!(
        VirtioIommu::new(regions(&dev), memory(), SPINS).err(),
        Some(Error::FeaturesRefused)
    );
    assert_eq!(dev.borrow().status & 0x80, 0x80, "FAILED set");
    let dev = FakeDevice::qemu_like();
    dev.borrow_mut().offered &= !(1 << 2);
    assert_eq!(
        VirtioIommu::new(regions(&dev), memory(), SPINS).err(),
        Some(Error::MissingFeature(2))
    );
    let dev = FakeDevice::qemu_like();
    dev.borrow_mut().hostile.unstable_config = true;
    assert_eq!(
        VirtioIommu::new(regions(&dev), memory(), SPINS).err(),
        Some(Error::ConfigUnstable)
    );
    let dev = FakeDevice::qemu_like();
    dev.borrow_mut().probe_size = 4096;
    assert_eq!(
        VirtioIommu::new(regions(&dev), memory(), SPINS).err(),
        Some(Error::NoMemory)
    );
    let dev = FakeDevice::qemu_like();
    let mut r = regions(&dev);
    r.notify_length = 2;
    assert_eq!(
        VirtioIommu::new(r, memory(), SPINS).err(),
        Some(Error::BadNotify(1))
    );
}

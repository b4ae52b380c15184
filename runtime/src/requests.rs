//! Domains whose IOMMU keeps the tables itself and takes map/unmap
//! requests instead (virtio-iommu: the host builds the translation from
//! the guest's MAP and UNMAP requests).
//!
//! The boot flow's domain only needs [`PageTableOps`]; [`RequestDomain`]
//! implements it by checking each call against the spec's geometry and
//! handing it to a [`RequestQueue`], which the (virtio) driver implements
//! over its request virtqueue. Nothing here touches memory the device
//! walks, so a request domain needs no table pool.

use crate::domain::{MapError, PageTableOps};
use crate::Prot;

/// The driver's side: send one request and wait for the device's answer.
pub trait RequestQueue {
    /// Ask the device to map `[iova, iova + size)` to `[phys, phys + size)`
    /// in `domain` (virtio-iommu `VIRTIO_IOMMU_T_MAP`).
    fn map(
        &mut self,
        domain: u32,
        iova: u64,
        phys: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), MapError>;
    /// Ask the device to unmap `[iova, iova + size)` in `domain`
    /// (`VIRTIO_IOMMU_T_UNMAP`); returns the bytes it unmapped.
    fn unmap(&mut self, domain: u32, iova: u64, size: u64) -> Result<u64, MapError>;
    /// The physical address `iova` maps to, if the driver can tell (the
    /// protocol has no lookup request; a driver may keep its own record).
    fn lookup(&self, domain: u32, iova: u64) -> Option<u64> {
        let _ = (domain, iova);
        None
    }
}

/// A domain served by requests: `GRANULE_SHIFT` and `IAS` come from the
/// spec's `requests` block, `domain` is the device's domain ID.
#[derive(Debug)]
pub struct RequestDomain<Q, const GRANULE_SHIFT: u32, const IAS: u32> {
    queue: Q,
    domain: u32,
}

impl<Q: RequestQueue, const GRANULE_SHIFT: u32, const IAS: u32>
    RequestDomain<Q, GRANULE_SHIFT, IAS>
{
    /// A domain that sends its requests through `queue` as domain `domain`.
    pub const fn new(queue: Q, domain: u32) -> Self {
        RequestDomain { queue, domain }
    }

    /// The device's domain ID.
    pub const fn id(&self) -> u32 {
        self.domain
    }

    /// The queue, for the driver (to attach endpoints, say).
    pub fn queue(&mut self) -> &mut Q {
        &mut self.queue
    }

    /// Granule-aligned, non-empty and inside the input range, or why not.
    fn check(iova: u64, size: u64) -> Result<(), MapError> {
        let g = 1u64 << GRANULE_SHIFT;
        if size == 0 || (iova | size) & (g - 1) != 0 {
            return Err(MapError::Unaligned);
        }
        let last = iova.checked_add(size - 1).ok_or(MapError::OutOfRange)?;
        if IAS < 64 && last >> IAS != 0 {
            return Err(MapError::OutOfRange);
        }
        Ok(())
    }
}

impl<Q: RequestQueue, const GRANULE_SHIFT: u32, const IAS: u32> PageTableOps
    for RequestDomain<Q, GRANULE_SHIFT, IAS>
{
    fn map(&mut self, iova: u64, phys: u64, size: u64, prot: Prot) -> Result<(), MapError> {
        Self::check(iova, size)?;
        if phys & ((1u64 << GRANULE_SHIFT) - 1) != 0 {
            return Err(MapError::Unaligned);
        }
        phys.checked_add(size - 1).ok_or(MapError::OutOfRange)?;
        self.queue.map(self.domain, iova, phys, size, prot)
    }

    fn unmap(&mut self, iova: u64, size: u64) -> Result<u64, MapError> {
        Self::check(iova, size)?;
        self.queue.unmap(self.domain, iova, size)
    }

    fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        self.queue.lookup(self.domain, iova)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Remembers the last request.
    #[derive(Default)]
    struct Last(Option<(u32, u64, u64, u64)>);

    impl RequestQueue for Last {
        fn map(
            &mut self,
            d: u32,
            iova: u64,
            phys: u64,
            size: u64,
            _: Prot,
        ) -> Result<(), MapError> {
            self.0 = Some((d, iova, phys, size));
            Ok(())
        }
        fn unmap(&mut self, d: u32, iova: u64, size: u64) -> Result<u64, MapError> {
            self.0 = Some((d, iova, 0, size));
            Ok(size)
        }
    }

    #[test]
    fn requests_reach_the_queue_with_the_domain_id() {
        let mut d = RequestDomain::<_, 12, 48>::new(Last::default(), 7);
        d.map(0x1000, 0x8000_0000, 0x2000, Prot::READ).unwrap();
        assert_eq!(d.queue().0, Some((7, 0x1000, 0x8000_0000, 0x2000)));
        assert_eq!(d.unmap(0x1000, 0x2000), Ok(0x2000));
        assert_eq!(d.iova_to_phys(0x1000), None);
    }

    #[test]
    fn bad_requests_are_refused_before_the_queue() {
        let mut d = RequestDomain::<_, 12, 32>::new(Last::default(), 1);
        assert_eq!(
            d.map(0x1800, 0, 0x1000, Prot::READ),
            Err(MapError::Unaligned)
        );
        assert_eq!(
            d.map(0x1000, 0x10, 0x1000, Prot::READ),
            Err(MapError::Unaligned)
        );
        assert_eq!(
            d.map(0xffff_f000, 0, 0x2000, Prot::READ),
            Err(MapError::OutOfRange)
        );
        assert_eq!(d.unmap(0, 0), Err(MapError::Unaligned));
        assert_eq!(d.queue().0, None);
        // A 64-bit input range ends at the top of the address space.
        let mut full = RequestDomain::<_, 12, 64>::new(Last::default(), 1);
        assert_eq!(full.map(u64::MAX - 0xfff, 0, 0x1000, Prot::READ), Ok(()));
        assert_eq!(
            full.map(u64::MAX - 0xfff, 0, 0x2000, Prot::READ),
            Err(MapError::OutOfRange)
        );
    }
}

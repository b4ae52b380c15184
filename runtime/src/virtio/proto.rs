//! The virtio-iommu request and event formats (virtio 1.x, "IOMMU
//! device"): what the driver writes for ATTACH, DETACH, MAP, UNMAP and
//! PROBE, the status the device returns, PROBE's properties and the fault
//! reports of the event queue. Little-endian throughout. Pure functions:
//! bytes in, typed values (or a typed error) out.

use super::Error;

pub const T_ATTACH: u8 = 1;
pub const T_DETACH: u8 = 2;
pub const T_MAP: u8 = 3;
pub const T_UNMAP: u8 = 4;
pub const T_PROBE: u8 = 5;

pub const MAP_F_READ: u32 = 1;
pub const MAP_F_WRITE: u32 = 2;
pub const MAP_F_MMIO: u32 = 4;

/// The tail the device writes after each request: status, 3 reserved.
pub const TAIL: usize = 4;
/// The device-readable part of the longest request (PROBE: head,
/// endpoint, 64 reserved bytes).
pub const MAX_OUT: usize = 72;
/// A fault report's size.
pub const FAULT: usize = 24;

/// A request's device-readable bytes (head and body, without the tail).
#[derive(Clone, Copy, Debug)]
pub struct Request {
    bytes: [u8; MAX_OUT],
    len: usize,
}

impl Request {
    fn new(kind: u8, len: usize) -> Request {
        let mut bytes = [0; MAX_OUT];
        bytes[0] = kind;
        Request { bytes, len }
    }
    fn put32(mut self, at: usize, v: u32) -> Request {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        self
    }
    fn put64(mut self, at: usize, v: u64) -> Request {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
        self
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
    pub fn kind(&self) -> u8 {
        self.bytes[0]
    }

    /// ATTACH endpoint to domain (flags 0: translated, not bypassed).
    pub fn attach(domain: u32, endpoint: u32) -> Request {
        Request::new(T_ATTACH, 20)
            .put32(4, domain)
            .put32(8, endpoint)
    }
    pub fn detach(domain: u32, endpoint: u32) -> Request {
        Request::new(T_DETACH, 20)
            .put32(4, domain)
            .put32(8, endpoint)
    }
    /// MAP `[virt_start, virt_end]` (inclusive) to `phys_start`.
    pub fn map(
        domain: u32,
        virt_start: u64,
        virt_end: u64,
        phys_start: u64,
        flags: u32,
    ) -> Request {
        Request::new(T_MAP, 36)
            .put32(4, domain)
            .put64(8, virt_start)
            .put64(16, virt_end)
            .put64(24, phys_start)
            .put32(32, flags)
    }
    /// UNMAP `[virt_start, virt_end]` (inclusive).
    pub fn unmap(domain: u32, virt_start: u64, virt_end: u64) -> Request {
        Request::new(T_UNMAP, 28)
            .put32(4, domain)
            .put64(8, virt_start)
            .put64(16, virt_end)
    }
    pub fn probe(endpoint: u32) -> Request {
        Request::new(T_PROBE, MAX_OUT).put32(4, endpoint)
    }
}

/// A status other than OK, as the specification names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    IoErr,
    Unsupp,
    DevErr,
    Inval,
    Range,
    NoEnt,
    Fault,
    NoMem,
}

/// The tail's status byte: `Ok(())`, a [`Status`], or
/// [`Error::UnknownStatus`].
pub fn status(code: u8) -> Result<(), Error> {
    let s = match code {
        0 => return Ok(()),
        1 => Status::IoErr,
        2 => Status::Unsupp,
        3 => Status::DevErr,
        4 => Status::Inval,
        5 => Status::Range,
        6 => Status::NoEnt,
        7 => Status::Fault,
        8 => Status::NoMem,
        other => return Err(Error::UnknownStatus(other)),
    };
    Err(Error::Status(s))
}

/// A reserved region PROBE reported for an endpoint, `[start, end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResvMem {
    pub kind: ResvKind,
    pub start: u64,
    pub end: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResvKind {
    /// Must not be mapped.
    Reserved,
    /// A doorbell the device translates itself (MSIs); not to be mapped.
    Msi,
    /// A subtype this driver does not know; kept out of the IOVA space
    /// like [`Reserved`](ResvKind::Reserved).
    Other(u8),
}

const PROBE_T_NONE: u16 = 0;
const PROBE_T_RESV_MEM: u16 = 1;
const PROBE_T_MASK: u16 = 0xfff;
/// RESV_MEM's value: subtype, 3 reserved, start, end.
const RESV_MEM_LEN: usize = 20;

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | u64::from(le32(b, at + 4)) << 32
}

/// Parses PROBE's property list into `out`; returns how many reserved
/// regions it held. Properties are (type, length, value) back to back,
/// ending at a NONE property or the buffer's end; unknown types are
/// skipped. A property running past the buffer, a short RESV_MEM or one
/// whose end is below its start is [`Error::BadProbe`]; more regions than
/// `out` holds is [`Error::TooManyRegions`].
pub fn parse_probe(props: &[u8], out: &mut [ResvMem]) -> Result<usize, Error> {
    let mut at = 0;
    let mut n = 0;
    while props.len() - at >= 4 {
        let kind = le16(props, at) & PROBE_T_MASK;
        let len = usize::from(le16(props, at + 2));
        if kind == PROBE_T_NONE {
            break;
        }
        let value = at + 4;
        if len > props.len() - value {
            return Err(Error::BadProbe { at });
        }
        if kind == PROBE_T_RESV_MEM {
            if len < RESV_MEM_LEN {
                return Err(Error::BadProbe { at });
            }
            let v = &props[value..value + len];
            let r = ResvMem {
                kind: match v[0] {
                    0 => ResvKind::Reserved,
                    1 => ResvKind::Msi,
                    other => ResvKind::Other(other),
                },
                start: le64(v, 4),
                end: le64(v, 12),
            };
            if r.end < r.start {
                return Err(Error::BadProbe { at });
            }
            *out.get_mut(n).ok_or(Error::TooManyRegions)? = r;
            n += 1;
        }
        at = value + len;
    }
    Ok(n)
}

/// Why the device reported a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Unknown,
    /// The endpoint is attached to no domain.
    Domain,
    /// No mapping for the address.
    Mapping,
}

pub const FAULT_F_READ: u32 = 1;
pub const FAULT_F_WRITE: u32 = 2;
pub const FAULT_F_EXEC: u32 = 4;
pub const FAULT_F_ADDRESS: u32 = 0x100;

/// A fault report from the event queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub reason: Reason,
    /// The raw flags (read, write, exec, address valid).
    pub flags: u32,
    pub endpoint: u32,
    /// The faulting address, when the device gave one.
    pub address: Option<u64>,
}

/// Parses one fault report (exactly [`FAULT`] bytes). An unlisted reason
/// is [`Error::BadEvent`].
pub fn parse_fault(b: &[u8]) -> Result<Fault, Error> {
    if b.len() != FAULT {
        return Err(Error::BadEvent);
    }
    let reason = match b[0] {
        0 => Reason::Unknown,
        1 => Reason::Domain,
        2 => Reason::Mapping,
        _ => return Err(Error::BadEvent),
    };
    let flags = le32(b, 4);
    Ok(Fault {
        reason,
        flags,
        endpoint: le32(b, 8),
        address: (flags & FAULT_F_ADDRESS != 0).then(|| le64(b, 16)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resv(sub: u8, start: u64, end: u64) -> [u8; 24] {
        let mut p = [0u8; 24];
        p[0] = 1;
        p[2] = 20;
        p[4] = sub;
        p[8..16].copy_from_slice(&start.to_le_bytes());
        p[16..24].copy_from_slice(&end.to_le_bytes());
        p
    }

    #[test]
    fn requests_have_the_specified_layout() {
        let m = Request::map(7, 0x1000, 0x1fff, 0x4000_0000, MAP_F_READ | MAP_F_WRITE);
        assert_eq!(m.bytes().len(), 36);
        assert_eq!(m.bytes()[0], T_MAP);
        assert_eq!(le32(m.bytes(), 4), 7);
        assert_eq!(le64(m.bytes(), 8), 0x1000);
        assert_eq!(le64(m.bytes(), 16), 0x1fff);
        assert_eq!(le64(m.bytes(), 24), 0x4000_0000);
        assert_eq!(le32(m.bytes(), 32), 3);
        assert_eq!(Request::attach(1, 0x10).bytes().len(), 20);
        assert_eq!(Request::unmap(1, 0, 0xfff).bytes().len(), 28);
        assert_eq!(Request::probe(0x10).bytes().len(), 72);
    }

    #[test]
    fn statuses_map_to_errors() {
        assert_eq!(status(0), Ok(()));
        assert_eq!(status(5), Err(Error::Status(Status::Range)));
        assert_eq!(status(8), Err(Error::Status(Status::NoMem)));
        assert_eq!(status(9), Err(Error::UnknownStatus(9)));
    }

    #[test]
    fn probe_properties_are_parsed_and_checked() {
        let mut buf = [0u8; 64];
        buf[..24].copy_from_slice(&resv(1, 0x800_0000, 0x80f_ffff));
        // An unknown property (type 0x7) of 4 bytes is skipped.
        buf[24] = 7;
        buf[26] = 4;
        buf[32..56].copy_from_slice(&resv(0, 0x1000, 0x1fff));
        let mut out = [ResvMem {
            kind: ResvKind::Reserved,
            start: 0,
            end: 0,
        }; 4];
        assert_eq!(parse_probe(&buf, &mut out), Ok(2));
        assert_eq!(
            out[0],
            ResvMem {
                kind: ResvKind::Msi,
                start: 0x800_0000,
                end: 0x80f_ffff
            }
        );
        assert_eq!(out[1].start, 0x1000);
        assert_eq!(parse_probe(&buf, &mut out[..1]), Err(Error::TooManyRegions));
        // A length past the buffer, a short RESV_MEM, an inverted range.
        let mut bad = buf;
        bad[2] = 200;
        assert_eq!(parse_probe(&bad, &mut out), Err(Error::BadProbe { at: 0 }));
        let mut bad = buf;
        bad[2] = 8;
        assert_eq!(parse_probe(&bad, &mut out), Err(Error::BadProbe { at: 0 }));
        let mut bad = [0u8; 24];
        bad.copy_from_slice(&resv(0, 0x2000, 0x1000));
        assert_eq!(parse_probe(&bad, &mut out), Err(Error::BadProbe { at: 0 }));
        // Nothing at all.
        assert_eq!(parse_probe(&[0; 16], &mut out), Ok(0));
    }

    #[test]
    fn faults_are_parsed() {
        let mut f = [0u8; 24];
        f[0] = 2;
        f[4..8].copy_from_slice(&(FAULT_F_WRITE | FAULT_F_ADDRESS).to_le_bytes());
        f[8..12].copy_from_slice(&0x10u32.to_le_bytes());
        f[16..24].copy_from_slice(&0xdead_b000u64.to_le_bytes());
        let got = parse_fault(&f).unwrap();
        assert_eq!(got.reason, Reason::Mapping);
        assert_eq!((got.endpoint, got.address), (0x10, Some(0xdead_b000)));
        f[5] = 0; // address not valid
        assert_eq!(parse_fault(&f).unwrap().address, None);
        f[0] = 9;
        assert_eq!(parse_fault(&f), Err(Error::BadEvent));
        assert_eq!(parse_fault(&f[..20]), Err(Error::BadEvent));
    }
}

//! Event-queue records: faults and configuration errors the SMMU reports.
//!
//! A record is 32 bytes. Dword 0 holds the type, the StreamID and the
//! SubstreamID; for translation-related faults dword 1 holds the access's
//! direction and class and dword 2 the input address (the IOVA).

use super::bits;

/// One event-queue entry as the SMMU writes it.
pub type EventEntry = [u64; 4];

/// The event type (dword 0 bits `[7:0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Unsupported upstream transaction.
    UnsupportedTransaction,
    /// StreamID beyond the stream table.
    BadStreamId,
    /// External abort fetching an STE.
    SteFetch,
    /// The STE is invalid or malformed.
    BadSte,
    BadAtsRequest,
    /// STE.Config is abort-with-event for this stream.
    StreamDisabled,
    TranslationForbidden,
    BadSubstreamId,
    /// External abort fetching a CD.
    CdFetch,
    /// The CD is invalid or malformed.
    BadCd,
    /// External abort during a table walk.
    WalkExternalAbort,
    /// No valid descriptor for the input address.
    Translation,
    /// The output address exceeds the configured size.
    AddressSize,
    /// A descriptor's access flag is clear.
    Access,
    /// The descriptor forbids the access (e.g. a write to a read-only page).
    Permission,
    TlbConflict,
    ConfigConflict,
    PageRequest,
    /// An encoding this module does not name.
    Other(u8),
}

impl EventKind {
    pub const fn from_code(code: u8) -> EventKind {
        match code {
            0x01 => EventKind::UnsupportedTransaction,
            0x02 => EventKind::BadStreamId,
            0x03 => EventKind::SteFetch,
            0x04 => EventKind::BadSte,
            0x05 => EventKind::BadAtsRequest,
            0x06 => EventKind::StreamDisabled,
            0x07 => EventKind::TranslationForbidden,
            0x08 => EventKind::BadSubstreamId,
            0x09 => EventKind::CdFetch,
            0x0a => EventKind::BadCd,
            0x0b => EventKind::WalkExternalAbort,
            0x10 => EventKind::Translation,
            0x11 => EventKind::AddressSize,
            0x12 => EventKind::Access,
            0x13 => EventKind::Permission,
            0x20 => EventKind::TlbConflict,
            0x21 => EventKind::ConfigConflict,
            0x24 => EventKind::PageRequest,
            n => EventKind::Other(n),
        }
    }

    /// The architecture's name for the event, as logs print it.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::UnsupportedTransaction => "F_UUT",
            EventKind::BadStreamId => "C_BAD_STREAMID",
            EventKind::SteFetch => "F_STE_FETCH",
            EventKind::BadSte => "C_BAD_STE",
            EventKind::BadAtsRequest => "F_BAD_ATS_TREQ",
            EventKind::StreamDisabled => "F_STREAM_DISABLED",
            EventKind::TranslationForbidden => "F_TRANSL_FORBIDDEN",
            EventKind::BadSubstreamId => "C_BAD_SUBSTREAMID",
            EventKind::CdFetch => "F_CD_FETCH",
            EventKind::BadCd => "C_BAD_CD",
            EventKind::WalkExternalAbort => "F_WALK_EABT",
            EventKind::Translation => "F_TRANSLATION",
            EventKind::AddressSize => "F_ADDR_SIZE",
            EventKind::Access => "F_ACCESS",
            EventKind::Permission => "F_PERMISSION",
            EventKind::TlbConflict => "F_TLB_CONFLICT",
            EventKind::ConfigConflict => "F_CFG_CONFLICT",
            EventKind::PageRequest => "E_PAGE_REQUEST",
            EventKind::Other(_) => "UNKNOWN",
        }
    }

    /// Dword 2 is the transaction's input address for these kinds.
    pub const fn has_input_address(self) -> bool {
        matches!(
            self,
            EventKind::UnsupportedTransaction
                | EventKind::BadAtsRequest
                | EventKind::TranslationForbidden
                | EventKind::WalkExternalAbort
                | EventKind::Translation
                | EventKind::AddressSize
                | EventKind::Access
                | EventKind::Permission
                | EventKind::TlbConflict
        )
    }

    /// Dword 1 carries RnW/PnU/InD/CLASS for these kinds.
    const fn has_access_info(self) -> bool {
        matches!(
            self,
            EventKind::UnsupportedTransaction
                | EventKind::WalkExternalAbort
                | EventKind::Translation
                | EventKind::AddressSize
                | EventKind::Access
                | EventKind::Permission
        )
    }
}

/// Which part of the walk faulted (dword 1 CLASS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultClass {
    /// Fetching the context descriptor.
    Cd,
    /// A translation-table walk.
    TableWalk,
    /// The input address itself.
    Input,
    Reserved,
}

/// Read or write, as the faulting transaction did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A decoded event record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub stream_id: u32,
    pub substream_id: Option<u32>,
    /// The IOVA, for kinds that carry one.
    pub input_address: Option<u64>,
    /// Direction and class, for the translation-fault kinds.
    pub access: Option<(Access, FaultClass)>,
    /// The fault hit the stage-2 walk.
    pub stage2: bool,
    pub raw: EventEntry,
}

impl Event {
    pub const fn decode(raw: &EventEntry) -> Event {
        let kind = EventKind::from_code(bits(raw[0], 0, 8) as u8);
        let substream_id = if bits(raw[0], 11, 1) == 1 {
            Some(bits(raw[0], 12, 20) as u32)
        } else {
            None
        };
        let access = if kind.has_access_info() {
            let dir = if bits(raw[1], 35, 1) == 1 {
                Access::Read
            } else {
                Access::Write
            };
            let class = match bits(raw[1], 40, 2) {
                0 => FaultClass::Cd,
                1 => FaultClass::TableWalk,
                2 => FaultClass::Input,
                _ => FaultClass::Reserved,
            };
            Some((dir, class))
        } else {
            None
        };
        Event {
            kind,
            stream_id: (raw[0] >> 32) as u32,
            substream_id,
            input_address: if kind.has_input_address() {
                Some(raw[2])
            } else {
                None
            },
            access,
            stage2: kind.has_access_info() && bits(raw[1], 39, 1) == 1,
            raw: *raw,
        }
    }
}

impl core::fmt::Display for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} sid={:#x}", self.kind.name(), self.stream_id)?;
        if let EventKind::Other(code) = self.kind {
            write!(f, " code={code:#x}")?;
        }
        if let Some(ssid) = self.substream_id {
            write!(f, " ssid={ssid:#x}")?;
        }
        if let Some(addr) = self.input_address {
            write!(f, " iova={addr:#x}")?;
        }
        if let Some((dir, _)) = self.access {
            f.write_str(match dir {
                Access::Read => " read",
                Access::Write => " write",
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn decodes_a_translation_fault_on_a_device_write() {
        // F_TRANSLATION (0x10), SID 8 in [63:32], RnW = 0 (write),
        // CLASS = IN (2) in [41:40], input address in dword 2.
        let raw = [0x10 | (8u64 << 32), 2u64 << 40, 0x1_0004_2000, 0];
        let e = Event::decode(&raw);
        assert_eq!(e.kind, EventKind::Translation);
        assert_eq!(e.stream_id, 8);
        assert_eq!(e.substream_id, None);
        assert_eq!(e.input_address, Some(0x1_0004_2000));
        assert_eq!(e.access, Some((Access::Write, FaultClass::Input)));
        assert!(!e.stage2);
        assert_eq!(
            e.to_string(),
            "F_TRANSLATION sid=0x8 iova=0x100042000 write"
        );
    }

    #[test]
    fn decodes_a_permission_fault_on_a_read_with_substream() {
        let raw = [
            0x13 | (1 << 11) | (5 << 12) | (0x20u64 << 32),
            1 << 35 | 1 << 40,
            0x3000,
            0,
        ];
        let e = Event::decode(&raw);
        assert_eq!(e.kind, EventKind::Permission);
        assert_eq!((e.stream_id, e.substream_id), (0x20, Some(5)));
        assert_eq!(e.access, Some((Access::Read, FaultClass::TableWalk)));
    }

    #[test]
    fn configuration_errors_carry_no_address() {
        let e = Event::decode(&[0x04 | (3u64 << 32), u64::MAX, 0xdead, 0]);
        assert_eq!(e.kind, EventKind::BadSte);
        assert_eq!(e.input_address, None);
        assert_eq!(e.access, None);
        assert!(!e.stage2);
        assert_eq!(Event::decode(&[0x7e, 0, 0, 0]).kind, EventKind::Other(0x7e));
    }
}

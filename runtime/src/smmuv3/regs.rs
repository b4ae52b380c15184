//! Register offsets and values of the SMMUv3 programming interface.
//!
//! Offsets are from the start of the frame. Page 0 holds the control and
//! identification registers; the event queue's indices live in page 1
//! (offset 0x1_0000), so the frame must be mapped 128 KiB long.

use super::bits;

pub const IDR0: usize = 0x00;
pub const IDR1: usize = 0x04;
pub const IDR3: usize = 0x0c;
pub const IDR5: usize = 0x14;
pub const IIDR: usize = 0x18;
pub const AIDR: usize = 0x1c;
pub const CR0: usize = 0x20;
pub const CR0ACK: usize = 0x24;
pub const CR1: usize = 0x28;
pub const CR2: usize = 0x2c;
pub const GBPA: usize = 0x44;
pub const IRQ_CTRL: usize = 0x50;
pub const IRQ_CTRLACK: usize = 0x54;
pub const GERROR: usize = 0x60;
pub const GERRORN: usize = 0x64;
pub const STRTAB_BASE: usize = 0x80;
pub const STRTAB_BASE_CFG: usize = 0x88;
pub const CMDQ_BASE: usize = 0x90;
pub const CMDQ_PROD: usize = 0x98;
pub const CMDQ_CONS: usize = 0x9c;
pub const EVTQ_BASE: usize = 0xa0;
pub const EVTQ_PROD: usize = 0x1_00a8;
pub const EVTQ_CONS: usize = 0x1_00ac;

/// Size of the register frame: page 0 and page 1.
pub const FRAME_SIZE: usize = 0x2_0000;

/// SMMU_CR0 enable bits; SMMU_CR0ACK mirrors them once they took effect.
pub mod cr0 {
    pub const SMMUEN: u32 = 1 << 0;
    pub const PRIQEN: u32 = 1 << 1;
    pub const EVTQEN: u32 = 1 << 2;
    pub const CMDQEN: u32 = 1 << 3;
}

/// SMMU_GBPA: what happens to transactions while SMMUEN is 0.
pub mod gbpa {
    /// Set by software to request an update; cleared by the SMMU when done.
    pub const UPDATE: u32 = 1 << 31;
    /// Abort all incoming transactions (instead of bypassing them).
    pub const ABORT: u32 = 1 << 20;
}

/// SMMU_GERROR bits (active when they differ from SMMU_GERRORN).
pub mod gerror {
    pub const CMDQ_ERR: u32 = 1 << 0;
    pub const EVTQ_ABT_ERR: u32 = 1 << 2;
    pub const PRIQ_ABT_ERR: u32 = 1 << 3;
    pub const SFM_ERR: u32 = 1 << 8;
}

/// Read-allocate hint in STRTAB_BASE and CMDQ_BASE, write-allocate in EVTQ_BASE.
pub const BASE_ALLOCATE_HINT: u64 = 1 << 62;
/// Physical address bits `[51:5]` of a queue base, `[51:6]` of the stream table.
pub const BASE_ADDR_MASK: u64 = ((1u64 << 52) - 1) & !0x1f;

/// Queue base register value: physical address, allocation hint, log2 of the
/// number of entries (bits `[4:0]`).
pub const fn queue_base(phys: u64, log2_entries: u8) -> u64 {
    BASE_ALLOCATE_HINT | (phys & BASE_ADDR_MASK) | (log2_entries as u64 & 0x1f)
}

/// STRTAB_BASE_CFG.FMT values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamTableFormat {
    Linear = 0,
    TwoLevel = 1,
}

/// STRTAB_BASE_CFG value: format, SPLIT (two-level only), LOG2SIZE.
pub const fn strtab_base_cfg(format: StreamTableFormat, split: u8, log2size: u8) -> u32 {
    ((format as u32) << 16) | ((split as u32 & 0x1f) << 6) | (log2size as u32 & 0x3f)
}

/// Cacheability of the SMMU's own accesses to tables and queues (SMMU_CR1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cr1Attrs {
    /// Inner-shareable write-back: the SMMU snoops CPU caches (`dma-coherent`).
    CoherentWriteBack,
    /// Outer-shareable non-cacheable: the CPU must clean what the SMMU reads.
    NonCacheable,
}

/// SMMU_CR1 value applying `attrs` to both queues and tables.
pub const fn cr1(attrs: Cr1Attrs) -> u32 {
    // Per 2-bit field: IC/OC 0 = non-cacheable, 1 = write-back;
    // SH 2 = outer shareable, 3 = inner shareable.
    let (cache, sh) = match attrs {
        Cr1Attrs::CoherentWriteBack => (1u32, 3u32),
        Cr1Attrs::NonCacheable => (0, 2),
    };
    let one = cache | (cache << 2) | (sh << 4); // IC, OC, SH for one class
    one | (one << 6) // queues in [5:0], tables in [11:6]
}

/// SMMU_CR2: record events for invalid StreamIDs, and ignore broadcast TLB
/// maintenance from PEs (the SMMU's ASIDs are its own).
pub const CR2_RECINVSID: u32 = 1 << 1;
pub const CR2_PTM: u32 = 1 << 2;

/// CMDQ_CONS.ERR: why the command queue stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// CERROR_ILL: an unknown or malformed command.
    Illegal,
    /// CERROR_ABT: an abort when reading the command.
    Abort,
    /// CERROR_ATC_INV_SYNC: an ATS invalidation did not complete.
    AtcInvSync,
    /// A code this module does not know.
    Other(u8),
}

impl CommandError {
    /// Decodes CMDQ_CONS; `None` when no error is flagged.
    pub const fn from_cons(cons: u32) -> Option<CommandError> {
        match (cons >> 24) & 0x7f {
            0 => None,
            1 => Some(CommandError::Illegal),
            2 => Some(CommandError::Abort),
            3 => Some(CommandError::AtcInvSync),
            n => Some(CommandError::Other(n as u8)),
        }
    }
}

/// Which translation granules the SMMU supports (SMMU_IDR5.GRAN*).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Granules {
    pub g4k: bool,
    pub g16k: bool,
    pub g64k: bool,
}

/// Endianness of translation-table walks (SMMU_IDR0.TTENDIAN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtEndian {
    Mixed,
    Little,
    Big,
    Reserved,
}

/// The capabilities the driver cares about, decoded from SMMU_IDR0/1/3/5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    pub stage1: bool,
    pub stage2: bool,
    /// IDR0.TTF includes the AArch64 (VMSAv8-64) table format.
    pub aarch64_tables: bool,
    /// IDR0.COHACC: table walks and queue accesses can be IO-coherent.
    pub coherent: bool,
    /// Two-level stream tables are supported (IDR0.ST_LEVEL).
    pub two_level_strtab: bool,
    pub tt_endian: TtEndian,
    /// 16 or 8.
    pub asid_bits: u8,
    /// 16 or 8.
    pub vmid_bits: u8,
    /// IDR0.HYP: EL2 translation regimes exist (TLBI_EL2_* commands).
    pub hyp: bool,
    /// Width of StreamIDs (IDR1.SIDSIZE).
    pub sid_bits: u8,
    /// Width of SubstreamIDs (IDR1.SSIDSIZE).
    pub ssid_bits: u8,
    /// log2 of the largest command queue (IDR1.CMDQS).
    pub cmdq_max_log2: u8,
    /// log2 of the largest event queue (IDR1.EVENTQS).
    pub evtq_max_log2: u8,
    /// Queue or table bases are fixed by the implementation (IDR1.*_PRESET);
    /// this driver does not support that.
    pub preset: bool,
    /// IDR3.RIL: range invalidation (TLBI with TG/SCALE/NUM).
    pub range_invalidation: bool,
    /// Output address size in bits (IDR5.OAS).
    pub oas_bits: u8,
    pub granules: Granules,
}

/// Address size in bits for an IDR5.OAS / CD.IPS encoding.
pub const fn address_size_bits(encoding: u8) -> Option<u8> {
    Some(match encoding {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        6 => 52,
        _ => return None,
    })
}

/// The largest IPS/OAS encoding whose size does not exceed `bits`.
pub const fn address_size_encoding(bits: u8) -> u8 {
    match bits {
        0..=35 => 0,
        36..=39 => 1,
        40..=41 => 2,
        42..=43 => 3,
        44..=47 => 4,
        48..=51 => 5,
        _ => 6,
    }
}

impl Features {
    /// Decodes the ID registers. Unknown encodings decode conservatively
    /// (an unknown OAS as 32 bits).
    pub fn decode(idr0: u32, idr1: u32, idr3: u32, idr5: u32) -> Features {
        let r0 = idr0 as u64;
        let r1 = idr1 as u64;
        let r5 = idr5 as u64;
        Features {
            stage2: bits(r0, 0, 1) == 1,
            stage1: bits(r0, 1, 1) == 1,
            // TTF: 0b10 AArch64 only, 0b11 AArch32 and AArch64.
            aarch64_tables: bits(r0, 3, 1) == 1,
            coherent: bits(r0, 4, 1) == 1,
            hyp: bits(r0, 9, 1) == 1,
            asid_bits: if bits(r0, 12, 1) == 1 { 16 } else { 8 },
            vmid_bits: if bits(r0, 18, 1) == 1 { 16 } else { 8 },
            tt_endian: match bits(r0, 21, 2) {
                0 => TtEndian::Mixed,
                2 => TtEndian::Little,
                3 => TtEndian::Big,
                _ => TtEndian::Reserved,
            },
            // ST_LEVEL: 0b00 linear only, 0b01 two-level supported.
            two_level_strtab: bits(r0, 27, 2) == 1,
            sid_bits: bits(r1, 0, 6) as u8,
            ssid_bits: bits(r1, 6, 5) as u8,
            evtq_max_log2: bits(r1, 16, 5) as u8,
            cmdq_max_log2: bits(r1, 21, 5) as u8,
            preset: bits(r1, 29, 2) != 0,
            range_invalidation: (idr3 >> 10) & 1 == 1,
            oas_bits: address_size_bits(bits(r5, 0, 3) as u8).unwrap_or(32),
            granules: Granules {
                g4k: bits(r5, 4, 1) == 1,
                g16k: bits(r5, 5, 1) == 1,
                g64k: bits(r5, 6, 1) == 1,
            },
        }
    }

    /// Little-endian AArch64 walks are possible.
    pub fn little_endian_walks(&self) -> bool {
        matches!(self.tt_endian, TtEndian::Mixed | TtEndian::Little)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_id_registers_of_a_stage1_only_smmu() {
        // Built field by field from the IHI 0070 layouts: S1P, TTF=AArch64,
        // COHACC, ASID16, TTENDIAN=LE, STALL_MODEL=1, TERM_MODEL, ST_LEVEL=1.
        let idr0 = (1 << 1)
            | (2 << 2)
            | (1 << 4)
            | (1 << 12)
            | (2 << 21)
            | (1 << 24)
            | (1 << 26)
            | (1 << 27);
        // SIDSIZE=16, EVENTQS=19, CMDQS=19.
        let idr1 = 16 | (19 << 16) | (19 << 21);
        let idr3 = 1 << 10;
        // OAS=44 bits (encoding 4), 4K/16K/64K.
        let idr5 = 4 | (1 << 4) | (1 << 5) | (1 << 6);
        let f = Features::decode(idr0, idr1, idr3, idr5);
        assert!(f.stage1 && !f.stage2 && f.aarch64_tables && f.coherent);
        assert!(f.two_level_strtab && f.little_endian_walks() && f.range_invalidation);
        assert_eq!((f.asid_bits, f.vmid_bits), (16, 8));
        assert_eq!((f.sid_bits, f.ssid_bits), (16, 0));
        assert_eq!((f.cmdq_max_log2, f.evtq_max_log2), (19, 19));
        assert_eq!(f.oas_bits, 44);
        assert_eq!(
            f.granules,
            Granules {
                g4k: true,
                g16k: true,
                g64k: true
            }
        );
        assert!(!f.preset && !f.hyp);
    }

    #[test]
    fn address_size_encodings_round_trip() {
        for enc in 0..=6u8 {
            let bits = address_size_bits(enc).unwrap();
            assert_eq!(address_size_encoding(bits), enc);
        }
        assert_eq!(address_size_bits(7), None);
        // 39 bits is not an encoding: round down to 36.
        assert_eq!(address_size_encoding(39), 1);
    }

    #[test]
    fn control_values() {
        // Coherent: IC=OC=WB(1), SH=ISH(3) for queues [5:0] and tables [11:6].
        assert_eq!(cr1(Cr1Attrs::CoherentWriteBack), 0b11_01_01_11_01_01);
        assert_eq!(cr1(Cr1Attrs::NonCacheable), 0b10_00_00_10_00_00);
        assert_eq!(strtab_base_cfg(StreamTableFormat::Linear, 0, 16), 16);
        assert_eq!(
            strtab_base_cfg(StreamTableFormat::TwoLevel, 8, 16),
            (1 << 16) | (8 << 6) | 16
        );
        assert_eq!(queue_base(0x4080_0000, 8), (1 << 62) | 0x4080_0000 | 8);
        assert_eq!(
            CommandError::from_cons(0x0100_0003),
            Some(CommandError::Illegal)
        );
        assert_eq!(CommandError::from_cons(0x0000_0003), None);
    }
}

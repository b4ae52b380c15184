//! Stream table entries (STE): what the SMMU does with one StreamID.
//!
//! An STE is 64 bytes. Only dword 0 holds the valid bit and the
//! configuration, so publishing an STE is: write dwords 1..7, then dword 0
//! in one 64-bit store, then invalidate the SMMU's cached copy (CFGI_STE).

use super::{bits, field};

/// One 64-byte stream table entry, as the SMMU reads it from memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Ste(pub [u64; 8]);

/// STE.Config: which stages translate, or abort / bypass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamConfig {
    /// Transactions are terminated (with no event).
    Abort,
    /// Transactions pass untranslated.
    Bypass,
    /// Stage-1 translation through the context descriptor(s).
    Stage1,
    Stage2,
    Nested,
    /// A reserved encoding.
    Reserved(u8),
}

impl StreamConfig {
    const fn encode(self) -> u64 {
        match self {
            StreamConfig::Abort => 0b000,
            StreamConfig::Bypass => 0b100,
            StreamConfig::Stage1 => 0b101,
            StreamConfig::Stage2 => 0b110,
            StreamConfig::Nested => 0b111,
            StreamConfig::Reserved(n) => n as u64 & 0b111,
        }
    }

    const fn decode(v: u64) -> StreamConfig {
        match v {
            0b000 => StreamConfig::Abort,
            0b100 => StreamConfig::Bypass,
            0b101 => StreamConfig::Stage1,
            0b110 => StreamConfig::Stage2,
            0b111 => StreamConfig::Nested,
            n => StreamConfig::Reserved(n as u8),
        }
    }
}

// Dword 0.
const V: u64 = 1;
const CONFIG_LSB: u32 = 1;
const S1CTXPTR_MASK: u64 = ((1u64 << 52) - 1) & !0x3f;
// Dword 1.
const S1CIR_LSB: u32 = 2;
const S1COR_LSB: u32 = 4;
const S1CSH_LSB: u32 = 6;
const SHCFG_LSB: u32 = 44;

/// Cacheability of the SMMU's context-descriptor fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdFetchAttrs {
    /// Inner-shareable write-back read-allocate (coherent SMMU).
    WriteBack,
    /// Non-cacheable (non-coherent SMMU).
    NonCacheable,
}

impl Ste {
    /// A valid STE that terminates the stream's transactions: the safe
    /// default for every StreamID no master was configured for.
    pub const fn abort() -> Ste {
        Ste([
            V | (StreamConfig::Abort.encode() << CONFIG_LSB),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ])
    }

    /// A valid STE that lets the stream's transactions through untranslated,
    /// with shareability as the device issued it.
    pub const fn bypass() -> Ste {
        Ste([
            V | (StreamConfig::Bypass.encode() << CONFIG_LSB),
            field(1, SHCFG_LSB, 2),
            0,
            0,
            0,
            0,
            0,
            0,
        ])
    }

    /// A valid stage-1 STE with one context descriptor (no substreams) at
    /// physical address `cd_phys` (64-byte aligned).
    pub const fn stage1(cd_phys: u64, fetch: CdFetchAttrs) -> Ste {
        let (cache, sh) = match fetch {
            CdFetchAttrs::WriteBack => (1, 3),
            CdFetchAttrs::NonCacheable => (0, 2),
        };
        let dw0 = V | (StreamConfig::Stage1.encode() << CONFIG_LSB) | (cd_phys & S1CTXPTR_MASK);
        // S1Fmt = 0 (one CD), S1CDMax = 0, S1DSS = 0, EATS = 0, STRW = NS-EL1,
        // S1STALLD = 0 (no stall model in use).
        let dw1 = field(cache, S1CIR_LSB, 2)
            | field(cache, S1COR_LSB, 2)
            | field(sh, S1CSH_LSB, 2)
            | field(1, SHCFG_LSB, 2);
        Ste([dw0, dw1, 0, 0, 0, 0, 0, 0])
    }

    pub const fn valid(&self) -> bool {
        self.0[0] & V != 0
    }

    pub const fn config(&self) -> StreamConfig {
        StreamConfig::decode(bits(self.0[0], CONFIG_LSB, 3))
    }

    /// The context-descriptor table's physical address.
    pub const fn cd_pointer(&self) -> u64 {
        self.0[0] & S1CTXPTR_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage1_ste_layout() {
        let ste = Ste::stage1(0x4123_4540, CdFetchAttrs::WriteBack);
        // V | Config=0b101 at [3:1] | pointer at [51:6].
        assert_eq!(ste.0[0], 1 | (0b101 << 1) | 0x4123_4540);
        // S1CIR=WB(1)@[3:2], S1COR=WB(1)@[5:4], S1CSH=ISH(3)@[7:6], SHCFG=1@[45:44].
        assert_eq!(ste.0[1], (1 << 2) | (1 << 4) | (3 << 6) | (1 << 44));
        assert!(ste.valid());
        assert_eq!(ste.config(), StreamConfig::Stage1);
        assert_eq!(ste.cd_pointer(), 0x4123_4540);
        // S1STALLD (dword 1 bit 27) and S1CDMax (dword 0 [63:59]) stay clear.
        assert_eq!(ste.0[1] & (1 << 27), 0);
        assert_eq!(ste.0[0] >> 59, 0);
    }

    #[test]
    fn abort_and_bypass() {
        assert_eq!(Ste::abort().0, [1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Ste::abort().config(), StreamConfig::Abort);
        assert_eq!(Ste::bypass().0[0], 1 | (0b100 << 1));
        assert_eq!(Ste::bypass().config(), StreamConfig::Bypass);
        assert!(!Ste::default().valid());
        assert_eq!(core::mem::size_of::<Ste>(), 64);
    }

    #[test]
    fn low_pointer_bits_are_not_config() {
        // An unaligned pointer must not leak into V/Config/S1Fmt.
        let ste = Ste::stage1(0x4000_007f, CdFetchAttrs::NonCacheable);
        assert_eq!(ste.config(), StreamConfig::Stage1);
        assert_eq!(ste.cd_pointer(), 0x4000_0040);
    }
}

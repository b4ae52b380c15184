//! Stage-1 context descriptors (CD): the translation regime of one stream
//! (or substream), the SMMU's equivalent of a PE's TCR/TTBR/MAIR.

use super::regs::address_size_encoding;
use super::{bits, field};

/// One 64-byte context descriptor, as the SMMU reads it from memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct ContextDescriptor(pub [u64; 8]);

/// Translation granule of TTB0 (CD.TG0 encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granule {
    G4K,
    G16K,
    G64K,
}

impl Granule {
    const fn tg0(self) -> u64 {
        match self {
            Granule::G4K => 0,
            Granule::G64K => 1,
            Granule::G16K => 2,
        }
    }

    /// log2 of the granule size in bytes.
    pub const fn shift(self) -> u32 {
        match self {
            Granule::G4K => 12,
            Granule::G16K => 14,
            Granule::G64K => 16,
        }
    }
}

/// What a stage-1 context needs from the page-table engine and the SMMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage1Config {
    /// Physical address of the level-0 (or start level) table.
    pub ttb0: u64,
    /// Input address size in bits (T0SZ = 64 - ias).
    pub ias: u8,
    /// Output address size in bits; encoded as IPS rounded down to an
    /// architected size. Callers pass min(page-table OAS, SMMU OAS).
    pub oas: u8,
    pub granule: Granule,
    /// The page tables are walked coherently (inner-shareable write-back),
    /// else non-cacheable outer-shareable.
    pub coherent_walk: bool,
    pub asid: u16,
    /// MAIR value whose indices the page-table engine's AttrIndx fields use.
    pub mair: u64,
}

// Dword 0.
const T0SZ_LSB: u32 = 0;
const TG0_LSB: u32 = 6;
const IR0_LSB: u32 = 8;
const OR0_LSB: u32 = 10;
const SH0_LSB: u32 = 12;
const EPD1: u64 = 1 << 30;
const V: u64 = 1 << 31;
const IPS_LSB: u32 = 32;
const AA64: u64 = 1 << 41;
/// Record faults in the event queue.
const R: u64 = 1 << 45;
/// Abort (terminate) faulting transactions rather than stall them.
const A: u64 = 1 << 46;
/// The ASID is not shared with PE TLB maintenance.
const ASET: u64 = 1 << 47;
const ASID_LSB: u32 = 48;
// Dword 1.
const TTB_MASK: u64 = ((1u64 << 52) - 1) & !0xf;

impl ContextDescriptor {
    /// A valid AArch64 stage-1 CD translating through TTB0 only (TTB1 walks
    /// disabled), recording faults and terminating faulting transactions.
    pub const fn stage1(cfg: &Stage1Config) -> ContextDescriptor {
        let (cache, sh) = if cfg.coherent_walk { (1, 3) } else { (0, 2) };
        let dw0 = field(64 - cfg.ias as u64, T0SZ_LSB, 6)
            | field(cfg.granule.tg0(), TG0_LSB, 2)
            | field(cache, IR0_LSB, 2)
            | field(cache, OR0_LSB, 2)
            | field(sh, SH0_LSB, 2)
            | EPD1
            | V
            | field(address_size_encoding(cfg.oas) as u64, IPS_LSB, 3)
            | AA64
            | R
            | A
            | ASET
            | field(cfg.asid as u64, ASID_LSB, 16);
        ContextDescriptor([dw0, cfg.ttb0 & TTB_MASK, 0, cfg.mair, 0, 0, 0, 0])
    }

    pub const fn valid(&self) -> bool {
        self.0[0] & V != 0
    }
    pub const fn asid(&self) -> u16 {
        bits(self.0[0], ASID_LSB, 16) as u16
    }
    pub const fn t0sz(&self) -> u8 {
        bits(self.0[0], T0SZ_LSB, 6) as u8
    }
    pub const fn ttb0(&self) -> u64 {
        self.0[1] & TTB_MASK
    }
    pub const fn mair(&self) -> u64 {
        self.0[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage1_cd_layout_for_48_bit_4k() {
        let cfg = Stage1Config {
            ttb0: 0x4020_3000,
            ias: 48,
            oas: 44,
            granule: Granule::G4K,
            coherent_walk: true,
            asid: 0x1234,
            mair: 0x0000_0000_0004_ff44,
        };
        let cd = ContextDescriptor::stage1(&cfg);
        // T0SZ=16, TG0=0, IR0=OR0=1, SH0=3, EPD1, V, IPS=4 (44 bits), AA64,
        // R, A, ASET, ASID.
        let want = 16
            | (1 << 8)
            | (1 << 10)
            | (3 << 12)
            | (1 << 30)
            | (1 << 31)
            | (4 << 32)
            | (1 << 41)
            | (1 << 45)
            | (1 << 46)
            | (1 << 47)
            | (0x1234 << 48);
        assert_eq!(cd.0[0], want);
        assert_eq!(cd.0[1], 0x4020_3000);
        assert_eq!(cd.0[3], 0x4_ff44);
        assert_eq!(
            (cd.asid(), cd.t0sz(), cd.ttb0(), cd.mair()),
            (0x1234, 16, 0x4020_3000, 0x4_ff44)
        );
        assert!(cd.valid());
        // HA/HD (bits 43/42) and S (stall, bit 44) stay clear.
        assert_eq!(cd.0[0] & (0b111 << 42), 0);
    }

    #[test]
    fn granule_and_ips_encodings() {
        let mut cfg = Stage1Config {
            ttb0: 0x1000,
            ias: 39,
            oas: 40,
            granule: Granule::G64K,
            coherent_walk: false,
            asid: 1,
            mair: 0,
        };
        let cd = ContextDescriptor::stage1(&cfg);
        assert_eq!(bits(cd.0[0], 0, 6), 25);
        assert_eq!(bits(cd.0[0], 6, 2), 1);
        assert_eq!(bits(cd.0[0], 8, 6), 0b10_00_00);
        assert_eq!(bits(cd.0[0], 32, 3), 2);
        cfg.granule = Granule::G16K;
        assert_eq!(bits(ContextDescriptor::stage1(&cfg).0[0], 6, 2), 2);
    }
}

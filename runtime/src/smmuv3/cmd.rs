//! Command-queue commands: configuration and TLB invalidation, and the
//! CMD_SYNC that tells software when the ones before it have completed.
//!
//! A command is 16 bytes (two little-endian dwords); the opcode is dword 0
//! bits `[7:0]`.

use super::cd::Granule;
use super::{bits, field};

/// One command-queue entry as the SMMU reads it.
pub type CommandEntry = [u64; 2];

pub mod opcode {
    pub const CFGI_STE: u8 = 0x03;
    /// CFGI_STE_RANGE; CFGI_ALL is this opcode with Range = 31.
    pub const CFGI_STE_RANGE: u8 = 0x04;
    pub const CFGI_CD: u8 = 0x05;
    pub const CFGI_CD_ALL: u8 = 0x06;
    pub const TLBI_NH_ALL: u8 = 0x10;
    pub const TLBI_NH_ASID: u8 = 0x11;
    pub const TLBI_NH_VA: u8 = 0x12;
    pub const TLBI_NH_VAA: u8 = 0x13;
    pub const TLBI_EL2_ALL: u8 = 0x20;
    pub const TLBI_NSNH_ALL: u8 = 0x30;
    pub const SYNC: u8 = 0x46;
}

/// The commands this runtime issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Invalidate cached copies of one STE (`leaf`: only the STE itself, not
    /// a level-1 descriptor above it).
    CfgiSte {
        sid: u32,
        leaf: bool,
    },
    /// Invalidate cached STEs for the 2^(range+1) StreamIDs containing `sid`.
    CfgiSteRange {
        sid: u32,
        range: u8,
    },
    /// Invalidate every cached STE and CD (CFGI_STE_RANGE with Range = 31).
    CfgiAll,
    /// Invalidate one cached CD of stream `sid`, substream `ssid`.
    CfgiCd {
        sid: u32,
        ssid: u32,
        leaf: bool,
    },
    /// Invalidate every cached CD of stream `sid`.
    CfgiCdAll {
        sid: u32,
    },
    /// Invalidate all non-secure EL1 stage-1 entries of `vmid`.
    TlbiNhAll {
        vmid: u16,
    },
    /// Invalidate the stage-1 entries of one ASID.
    TlbiNhAsid {
        vmid: u16,
        asid: u16,
    },
    /// Invalidate the entries of `asid` covering `addr` (or, when
    /// `range` is set, a range of pages starting at `addr`).
    TlbiNhVa {
        vmid: u16,
        asid: u16,
        addr: u64,
        leaf: bool,
        range: Option<TlbiRange>,
    },
    /// TLBI_NH_VA for every ASID.
    TlbiNhVaa {
        vmid: u16,
        addr: u64,
        leaf: bool,
    },
    TlbiEl2All,
    /// Invalidate every non-secure, non-hypervisor entry: all stage-1 and
    /// stage-2 entries of every VMID and ASID.
    TlbiNsnhAll,
    /// Completes once every earlier command has; no interrupt, no MSI
    /// (software polls the consumer index).
    Sync,
}

/// The range form of TLBI_NH_VA (SMMU_IDR3.RIL): (num + 1) * 2^scale pages
/// of `granule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbiRange {
    pub granule: Granule,
    /// 0..=31.
    pub scale: u8,
    /// 0..=31: one less than the number of 2^scale chunks.
    pub num: u8,
}

impl TlbiRange {
    pub const fn pages(&self) -> u64 {
        (self.num as u64 + 1) << self.scale
    }
    const fn tg(&self) -> u64 {
        match self.granule {
            Granule::G4K => 1,
            Granule::G16K => 2,
            Granule::G64K => 3,
        }
    }
}

const fn sid(sid: u32) -> u64 {
    (sid as u64) << 32
}

const fn vmid_asid(vmid: u16, asid: u16) -> u64 {
    field(vmid as u64, 32, 16) | field(asid as u64, 48, 16)
}

/// Address bits `[63:12]` of a TLBI command's dword 1.
const ADDR_MASK: u64 = !0xfff;

impl Command {
    pub const fn encode(&self) -> CommandEntry {
        use opcode::*;
        match *self {
            Command::CfgiSte { sid: s, leaf } => [CFGI_STE as u64 | sid(s), leaf as u64],
            Command::CfgiSteRange { sid: s, range } => {
                [CFGI_STE_RANGE as u64 | sid(s), range as u64 & 0x1f]
            }
            Command::CfgiAll => [CFGI_STE_RANGE as u64, 31],
            Command::CfgiCd { sid: s, ssid, leaf } => [
                CFGI_CD as u64 | field(ssid as u64, 12, 20) | sid(s),
                leaf as u64,
            ],
            Command::CfgiCdAll { sid: s } => [CFGI_CD_ALL as u64 | sid(s), 0],
            Command::TlbiNhAll { vmid } => [TLBI_NH_ALL as u64 | vmid_asid(vmid, 0), 0],
            Command::TlbiNhAsid { vmid, asid } => [TLBI_NH_ASID as u64 | vmid_asid(vmid, asid), 0],
            Command::TlbiNhVa {
                vmid,
                asid,
                addr,
                leaf,
                range,
            } => {
                let (num_scale, tg) = match range {
                    Some(r) => (
                        field(r.num as u64, 12, 5) | field(r.scale as u64, 20, 5),
                        r.tg(),
                    ),
                    None => (0, 0),
                };
                [
                    TLBI_NH_VA as u64 | num_scale | vmid_asid(vmid, asid),
                    leaf as u64 | field(tg, 10, 2) | (addr & ADDR_MASK),
                ]
            }
            Command::TlbiNhVaa { vmid, addr, leaf } => [
                TLBI_NH_VAA as u64 | vmid_asid(vmid, 0),
                leaf as u64 | (addr & ADDR_MASK),
            ],
            Command::TlbiEl2All => [TLBI_EL2_ALL as u64, 0],
            Command::TlbiNsnhAll => [TLBI_NSNH_ALL as u64, 0],
            // CS = 0 (SIG_NONE): completion is observed through CMDQ_CONS.
            Command::Sync => [SYNC as u64, 0],
        }
    }

    /// Decodes an entry this module could have produced; `None` for other
    /// opcodes. Used by tests and by diagnostics after a command error.
    pub const fn decode(e: &CommandEntry) -> Option<Command> {
        use opcode::*;
        let s = (e[0] >> 32) as u32;
        let vmid = bits(e[0], 32, 16) as u16;
        let asid = bits(e[0], 48, 16) as u16;
        let leaf = e[1] & 1 == 1;
        Some(match bits(e[0], 0, 8) as u8 {
            CFGI_STE => Command::CfgiSte { sid: s, leaf },
            CFGI_STE_RANGE if bits(e[1], 0, 5) == 31 => Command::CfgiAll,
            CFGI_STE_RANGE => Command::CfgiSteRange {
                sid: s,
                range: bits(e[1], 0, 5) as u8,
            },
            CFGI_CD => Command::CfgiCd {
                sid: s,
                ssid: bits(e[0], 12, 20) as u32,
                leaf,
            },
            CFGI_CD_ALL => Command::CfgiCdAll { sid: s },
            TLBI_NH_ALL => Command::TlbiNhAll { vmid },
            TLBI_NH_ASID => Command::TlbiNhAsid { vmid, asid },
            TLBI_NH_VA => {
                let granule = match bits(e[1], 10, 2) {
                    1 => Some(Granule::G4K),
                    2 => Some(Granule::G16K),
                    3 => Some(Granule::G64K),
                    _ => None,
                };
                let range = match granule {
                    Some(granule) => Some(TlbiRange {
                        granule,
                        scale: bits(e[0], 20, 5) as u8,
                        num: bits(e[0], 12, 5) as u8,
                    }),
                    None => None,
                };
                Command::TlbiNhVa {
                    vmid,
                    asid,
                    addr: e[1] & ADDR_MASK,
                    leaf,
                    range,
                }
            }
            TLBI_NH_VAA => Command::TlbiNhVaa {
                vmid,
                addr: e[1] & ADDR_MASK,
                leaf,
            },
            TLBI_EL2_ALL => Command::TlbiEl2All,
            TLBI_NSNH_ALL => Command::TlbiNsnhAll,
            SYNC => Command::Sync,
            _ => return None,
        })
    }
}

/// The TLBI_NH_VA commands that invalidate `[iova, iova + size)` of `asid`.
///
/// Without range invalidation there is one command per `stride` bytes (the
/// size of the leaf entries being removed: a 2 MiB block needs one command,
/// not 512). With it, the range is cut into at most a dozen commands, each
/// covering (NUM + 1) * 2^SCALE granules, lowest set bit of the remaining page
/// count first so every command's size is exact.
#[derive(Clone, Debug)]
pub struct TlbiVaRange {
    asid: u16,
    next: u64,
    end: u64,
    stride: u64,
    granule: Granule,
    leaf: bool,
    ranged: bool,
}

impl TlbiVaRange {
    /// `iova` and `size` are rounded out to the granule; `stride` (a power of
    /// two, at least the granule) is used only without range support.
    pub fn new(
        asid: u16,
        iova: u64,
        size: u64,
        granule: Granule,
        stride: u64,
        leaf: bool,
        ranged: bool,
    ) -> TlbiVaRange {
        let g = 1u64 << granule.shift();
        let start = iova & !(g - 1);
        let end = iova.saturating_add(size).saturating_add(g - 1) & !(g - 1);
        let stride = if stride.is_power_of_two() && stride >= g {
            stride
        } else {
            g
        };
        TlbiVaRange {
            asid,
            next: if ranged { start } else { start & !(stride - 1) },
            end,
            stride,
            granule,
            leaf,
            ranged,
        }
    }
}

impl Iterator for TlbiVaRange {
    type Item = Command;

    fn next(&mut self) -> Option<Command> {
        if self.next >= self.end {
            return None;
        }
        let addr = self.next;
        let range = if self.ranged {
            let shift = self.granule.shift();
            let pages = (self.end - addr) >> shift;
            let scale = pages.trailing_zeros().min(31);
            let chunks = match (pages >> scale) & 0x1f {
                0 => 32,
                n => n,
            };
            self.next = addr + ((chunks << scale) << shift);
            Some(TlbiRange {
                granule: self.granule,
                scale: scale as u8,
                num: (chunks - 1) as u8,
            })
        } else {
            self.next = addr.saturating_add(self.stride);
            None
        };
        Some(Command::TlbiNhVa {
            vmid: 0,
            asid: self.asid,
            addr,
            leaf: self.leaf,
            range,
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn encodings_match_the_architected_layouts() {
        assert_eq!(
            Command::CfgiSte { sid: 8, leaf: true }.encode(),
            [0x03 | (8 << 32), 1]
        );
        assert_eq!(Command::CfgiAll.encode(), [0x04, 31]);
        assert_eq!(Command::TlbiNsnhAll.encode(), [0x30, 0]);
        assert_eq!(Command::Sync.encode(), [0x46, 0]);
        assert_eq!(
            Command::TlbiNhAsid { vmid: 0, asid: 5 }.encode(),
            [0x11 | (5 << 48), 0]
        );
        assert_eq!(
            Command::CfgiCd {
                sid: 0x10,
                ssid: 3,
                leaf: true
            }
            .encode(),
            [0x05 | (3 << 12) | (0x10 << 32), 1]
        );
        let va = Command::TlbiNhVa {
            vmid: 0,
            asid: 7,
            addr: 0x1234_5fff,
            leaf: true,
            range: Some(TlbiRange {
                granule: Granule::G4K,
                scale: 2,
                num: 4,
            }),
        };
        // NUM@[16:12], SCALE@[24:20], ASID@[63:48]; Leaf@0, TG@[11:10], addr@[63:12].
        assert_eq!(
            va.encode(),
            [
                0x12 | (4 << 12) | (2 << 20) | (7 << 48),
                1 | (1 << 10) | 0x1234_5000
            ]
        );
    }

    #[test]
    fn decode_inverts_encode() {
        let all = [
            Command::CfgiSte {
                sid: 0xffff,
                leaf: false,
            },
            Command::CfgiSteRange { sid: 16, range: 3 },
            Command::CfgiAll,
            Command::CfgiCd {
                sid: 1,
                ssid: 0xfffff,
                leaf: true,
            },
            Command::CfgiCdAll { sid: 9 },
            Command::TlbiNhAll { vmid: 3 },
            Command::TlbiNhAsid {
                vmid: 1,
                asid: 0xffff,
            },
            Command::TlbiNhVa {
                vmid: 0,
                asid: 2,
                addr: 0xffff_f000,
                leaf: false,
                range: None,
            },
            Command::TlbiNhVaa {
                vmid: 0,
                addr: 0x20_0000,
                leaf: true,
            },
            Command::TlbiEl2All,
            Command::TlbiNsnhAll,
            Command::Sync,
        ];
        for c in all {
            assert_eq!(Command::decode(&c.encode()), Some(c));
        }
        assert_eq!(Command::decode(&[0x7f, 0]), None);
    }

    fn covered(cmds: &[Command]) -> Vec<(u64, u64)> {
        cmds.iter()
            .map(|c| match *c {
                Command::TlbiNhVa {
                    addr,
                    range: Some(r),
                    ..
                } => (addr, r.pages() << 12),
                Command::TlbiNhVa {
                    addr, range: None, ..
                } => (addr, 0),
                _ => panic!("not a TLBI_NH_VA"),
            })
            .collect()
    }

    #[test]
    fn ranged_invalidation_covers_exactly_the_range() {
        // 37 pages = 0b1_00101: the low five bits as 5 chunks of 2^0 pages
        // (NUM = 4, SCALE = 0), then one chunk of 2^5 pages, contiguous.
        let cmds: Vec<_> =
            TlbiVaRange::new(1, 0x10_0000, 37 << 12, Granule::G4K, 4096, true, true).collect();
        assert_eq!(covered(&cmds), [(0x10_0000, 0x5000), (0x10_5000, 0x20000)]);
        // Sizes of 1..=2000 pages: contiguous, exact, and few commands
        // (every 37th size under Miri).
        for pages in (1..=2000u64).step_by(if cfg!(miri) { 37 } else { 1 }) {
            let cmds: Vec<_> =
                TlbiVaRange::new(1, 0x4000_0000, pages << 12, Granule::G4K, 4096, true, true)
                    .collect();
            let mut at = 0x4000_0000;
            for (addr, len) in covered(&cmds) {
                assert_eq!(addr, at);
                at += len;
            }
            assert_eq!(at, 0x4000_0000 + (pages << 12));
            assert!(
                cmds.len() <= 3,
                "{pages} pages took {} commands",
                cmds.len()
            );
        }
    }

    #[test]
    fn unranged_invalidation_steps_by_stride() {
        let cmds: Vec<_> = TlbiVaRange::new(
            1,
            0x20_0000,
            0x40_0000,
            Granule::G4K,
            0x20_0000,
            true,
            false,
        )
        .collect();
        assert_eq!(covered(&cmds), [(0x20_0000, 0), (0x40_0000, 0)]);
        // Unaligned start and size round out to whole pages.
        let cmds: Vec<_> =
            TlbiVaRange::new(1, 0x1800, 0x1000, Granule::G4K, 4096, true, false).collect();
        assert_eq!(covered(&cmds), [(0x1000, 0), (0x2000, 0)]);
    }
}

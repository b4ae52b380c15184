//! One descriptor word in words, for the human output: its type, the
//! address it holds and its permissions.

use iommugen_dsl::ir;

/// Lookup levels of the spec's walk (LPAE: after stage-2 concatenation).
fn levels(pt: &ir::PageTable) -> u32 {
    match pt.format {
        ir::Format::ArmV7s { .. }
        | ir::Format::AppleDart { .. }
        | ir::Format::Rockchip { .. }
        | ir::Format::ExynosSysmmu { .. }
        | ir::Format::Sun50i
        | ir::Format::TegraSmmu { .. } => 2,
        ir::Format::ArmLpaeS1 | ir::Format::ArmLpaeS2 => {
            let g = pt.granule.shift();
            let bits = g - 3;
            let ias = u32::from(pt.ias);
            let needed = (ias - g).div_ceil(bits);
            let top = ias - g - (needed - 1) * bits;
            let concat = pt.format == ir::Format::ArmLpaeS2 && top <= 4 && needed > 1;
            needed - u32::from(concat)
        }
    }
}

/// `level` counts from the root (1).
pub fn entry(pt: &ir::PageTable, level: u32, d: u64) -> String {
    let last = level == levels(pt);
    match pt.format {
        ir::Format::ArmV7s { mtk_ext } => v7s(level, d, mtk_ext),
        ir::Format::AppleDart { generation } => dart(last, d, generation.number()),
        ir::Format::Rockchip { version } => rockchip(last, d as u32, version),
        ir::Format::ExynosSysmmu { version } => exynos(last, d as u32, version),
        ir::Format::Sun50i => sun50i(last, d as u32),
        ir::Format::TegraSmmu { generation } => tegra(last, d as u32, generation.pa_bits()),
        ir::Format::ArmLpaeS1 | ir::Format::ArmLpaeS2 => lpae(pt, last, d),
    }
}

fn lpae(pt: &ir::PageTable, last: bool, d: u64) -> String {
    let g = pt.granule.shift();
    let mut oa = d & ((1u64 << 48) - 1) & !((1u64 << g) - 1);
    if pt.oas == 52 {
        oa |= ((d >> 12) & 0xf) << 48;
    }
    match (d & 3, last) {
        (0b11, false) => return format!("table -> {oa:#x}"),
        (0b11, true) => {}
        (0b01, false) => {}
        _ => return "invalid".to_owned(),
    }
    let kind = if last { "page" } else { "block" };
    let xn = if d >> 54 & 1 != 0 { "nx" } else { "x" };
    let (access, mem) = if pt.format == ir::Format::ArmLpaeS2 {
        let access = match d >> 6 & 3 {
            0b01 => "r",
            0b10 => "w",
            0b11 => "rw",
            _ => "none",
        };
        // MemAttr[3:2] == 0: device memory.
        let mem = if d >> 4 & 3 == 0 { "device" } else { "normal" };
        (access, mem)
    } else {
        let access = if d >> 7 & 1 != 0 { "r" } else { "rw" };
        (access, if d >> 2 & 7 == 0 { "attr0" } else { "normal" })
    };
    let mem = if pt.format == ir::Format::ArmLpaeS2 {
        mem.to_owned()
    } else {
        format!("attr{}", d >> 2 & 7)
    };
    format!("{kind} -> {oa:#x} {access} {xn} {mem}")
}

fn v7s(level: u32, d: u64, mtk_ext: bool) -> String {
    let d = d as u32;
    // MediaTek: PA bits 32, 33, 34 in descriptor bits 9, 4, 5 of leaves.
    let ext = |pa: u64| {
        if mtk_ext {
            pa | u64::from(d >> 9 & 1) << 32
                | u64::from(d >> 4 & 1) << 33
                | u64::from(d >> 5 & 1) << 34
        } else {
            pa
        }
    };
    let perms = |attr_shift: u32| {
        if mtk_ext {
            "rw x".to_owned()
        } else {
            let ro = d >> (attr_shift + 5) & 1 != 0;
            (if ro { "r" } else { "rw" }).to_owned()
        }
    };
    if level == 1 {
        match d & 3 {
            0b01 => format!("table -> {:#x}", d & 0xffff_fc00),
            0b10 if d & (1 << 18) != 0 => format!(
                "supersection -> {:#x} {}",
                ext(u64::from(d & 0xff00_0000)),
                perms(10)
            ),
            0b10 => format!(
                "section -> {:#x} {}",
                ext(u64::from(d & 0xfff0_0000)),
                perms(10)
            ),
            _ => "invalid".to_owned(),
        }
    } else {
        match d & 3 {
            0b01 => format!(
                "large page -> {:#x} {}",
                ext(u64::from(d & 0xffff_0000)),
                perms(4)
            ),
            0b10 | 0b11 => format!(
                "small page -> {:#x} {}",
                ext(u64::from(d & 0xffff_f000)),
                perms(4)
            ),
            _ => "invalid".to_owned(),
        }
    }
}

/// Apple DART: bit 0 valid at both levels; the address is PA 35:12 in
/// place (DART1) or PA 41:14 in entry bits 37:10 (DART2). Pages carry
/// no-read/no-write bits (DART1 8/7, DART2 3/2), DART1's sub-page
/// protection disable (bit 1) or DART2's no-cache (bit 1), and the
/// sub-page window (start 63:52, end 51:40).
fn dart(last: bool, d: u64, generation: u8) -> String {
    if d & 1 == 0 {
        return "invalid".to_owned();
    }
    let (oa, no_read, no_write, bit1) = if generation == 2 {
        ((d >> 10 & ((1 << 28) - 1)) << 14, 3, 2, "nocache")
    } else {
        (d & 0xf_ffff_f000, 8, 7, "sp-dis")
    };
    if !last {
        return format!("table -> {oa:#x}");
    }
    let access = access(d >> no_read & 1 == 0, d >> no_write & 1 == 0);
    let flag = if d >> 1 & 1 != 0 {
        format!(" {bit1}")
    } else {
        String::new()
    };
    let (start, end) = (d >> 52 & 0xfff, d >> 40 & 0xfff);
    format!("page -> {oa:#x} {access}{flag} subpage {start:#x}..{end:#x}")
}

/// Rockchip: bit 0 valid in directory and page entries; PA 31:12 in place,
/// and in version 2 PA 35:32 in bits 11:8 and PA 39:36 in bits 7:4. Page
/// entries allow reads with bit 1 and writes with bit 2.
fn rockchip(last: bool, d: u32, version: u8) -> String {
    if d & 1 == 0 {
        return "invalid".to_owned();
    }
    let mut oa = u64::from(d & 0xffff_f000);
    if version == 2 {
        oa |= u64::from(d >> 8 & 0xf) << 32 | u64::from(d >> 4 & 0xf) << 36;
    }
    if !last {
        return format!("page table -> {oa:#x}");
    }
    format!("page -> {oa:#x} {}", access(d & 2 != 0, d & 4 != 0))
}

/// Exynos SysMMU: first level 10 a 1M section, 01 a second-level table,
/// else a fault; second level 01 a 64K large page (one of 16 copies), 1x
/// a 4K small page, 00 a fault. From version 5 the address fields hold
/// PA >> 4 and the permissions are a read bit and a write bit (section
/// 4/5, page 2/3); before, an access bit (section 10, page 4) and a
/// read-only bit (15, 9).
fn exynos(last: bool, d: u32, version: u8) -> String {
    let v5 = version >= 5;
    let addr = |low: u32| {
        let low = if v5 { low - 4 } else { low };
        let field = u64::from(d >> low) << low;
        if v5 {
            field << 4
        } else {
            field
        }
    };
    let bit = |n: u32| d >> n & 1 != 0;
    let perms = |section: bool| {
        let (r, w) = match (v5, section) {
            (true, true) => (bit(4), bit(5)),
            (true, false) => (bit(2), bit(3)),
            (false, true) => (bit(10), bit(10) && !bit(15)),
            (false, false) => (bit(4), bit(4) && !bit(9)),
        };
        access(r, w)
    };
    match (last, d & 3) {
        (false, 0b10) => format!("section -> {:#x} {}", addr(20), perms(true)),
        (false, 0b01) => format!("page table -> {:#x}", addr(10)),
        (true, 0b01) => format!("large page -> {:#x} {}", addr(16), perms(false)),
        (true, 0b10 | 0b11) => format!("page -> {:#x} {}", addr(12), perms(false)),
        _ => "invalid".to_owned(),
    }
}

/// sun50i: a directory entry is valid when bits 1:0 are 01 (page table in
/// bits 31:10); a page entry when bit 1 is set (page in bits 31:12), with
/// its authority index in bits 7:4 (Linux's 1 none, 2 read, 3 write, 4
/// read/write).
fn sun50i(last: bool, d: u32) -> String {
    if !last {
        return if d & 3 == 0b01 {
            format!("page table -> {:#x}", d & 0xffff_fc00)
        } else {
            "invalid".to_owned()
        };
    }
    if d & 2 == 0 {
        return "invalid".to_owned();
    }
    let aci = d >> 4 & 0xf;
    let access = match aci {
        1 => "none",
        2 => "r",
        3 => "w",
        4 => "rw",
        _ => "domain",
    };
    format!("page -> {:#x} {access} (aci {aci})", d & 0xffff_f000)
}

/// Tegra SMMU: the page frame number in the low `pa_bits - 12` bits of
/// both kinds; bit 31 readable, 30 writable, 29 non-secure; a directory
/// entry with bit 28 ("next") points to a page table, one without it
/// would be a 4 MiB section (never written here).
fn tegra(last: bool, d: u32, pa_bits: u8) -> String {
    if d == 0 {
        return "invalid".to_owned();
    }
    let oa = u64::from(d & ((1u32 << (pa_bits - 12)) - 1)) << 12;
    let ns = if d & 1 << 29 != 0 { " ns" } else { "" };
    if !last {
        return if d & 1 << 28 != 0 {
            format!("page table -> {oa:#x}")
        } else {
            format!(
                "section -> {oa:#x} {}{ns}",
                access(d >> 31 != 0, d & 1 << 30 != 0)
            )
        };
    }
    format!(
        "page -> {oa:#x} {}{ns}",
        access(d >> 31 != 0, d & 1 << 30 != 0)
    )
}

/// A leaf's read and write permissions as the human dump writes them.
fn access(read: bool, write: bool) -> &'static str {
    match (read, write) {
        (true, true) => "rw",
        (true, false) => "r",
        (false, true) => "w",
        (false, false) => "none",
    }
}

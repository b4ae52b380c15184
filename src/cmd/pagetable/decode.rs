//! One descriptor word in words, for the human output: its type, the
//! address it holds and its permissions.

use iommugen_dsl::ir;

/// Lookup levels of the spec's walk (LPAE: after stage-2 concatenation).
fn levels(pt: &ir::PageTable) -> u32 {
    match pt.format {
        ir::Format::ArmV7s { .. } => 2,
        _ => {
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
        _ => lpae(pt, last, d),
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

//! Entry, exception vectors and the CPU's own identity map.
//!
//! QEMU enters `_start` at EL1 with the MMU and caches off, on every CPU of
//! `-smp` (one by default). With the MMU off every access is Device-nGnRnE:
//! unaligned accesses fault and exclusive accesses (the page-table engine's
//! atomics) are not guaranteed, so the kernel turns the MMU on with an
//! identity map first: RAM as Normal write-back, everything else Device.

use core::arch::{asm, global_asm};

global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbnz    x1, 9f
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    mov     sp, x1
    // FP/SIMD at EL1 (the compiler may use NEON registers).
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  adrp    x1, exception_vectors
    add     x1, x1, :lo12:exception_vectors
    msr     vbar_el1, x1
    isb
    bl      kmain
9:  wfe
    b       9b

    .macro vector idx
    .balign 0x80
    mov     x0, #\idx
    b       exception_common
    .endm

    .balign 0x800
exception_vectors:
    vector 0
    vector 1
    vector 2
    vector 3
    vector 4
    vector 5
    vector 6
    vector 7
    vector 8
    vector 9
    vector 10
    vector 11
    vector 12
    vector 13
    vector 14
    vector 15
exception_common:
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      exception_handler
    b       9b
"#
);

/// Every exception is fatal here: report it and exit non-zero.
#[no_mangle]
extern "C" fn exception_handler(kind: u64, esr: u64, elr: u64, far: u64) -> ! {
    crate::println!("EXCEPTION kind={kind} esr={esr:#x} elr={elr:#x} far={far:#x}");
    crate::semihost::exit(3)
}

/// One level-1 table of 1 GiB blocks covers the 39-bit space QEMU virt uses
/// (devices below 1 GiB, RAM from 1 GiB, PCIe ECAM at 257 GiB).
#[repr(C, align(4096))]
struct Level1([u64; 512]);

static mut CPU_TABLE: Level1 = Level1([0; 512]);

const MAIR_DEVICE_NGNRNE: u64 = 0x00; // index 0
const MAIR_NORMAL_WB: u64 = 0xff; // index 1
const BLOCK: u64 = 0b01;
const AF: u64 = 1 << 10;
const SH_INNER: u64 = 0b11 << 8;
const XN: u64 = (1 << 53) | (1 << 54);

/// Identity-maps the first 512 GiB (RAM GiBs `ram` as Normal WB, the rest
/// as Device) and enables the MMU and caches.
pub fn enable_mmu(ram: core::ops::Range<u64>) {
    // SAFETY: runs once, before anything else uses CPU_TABLE, on one CPU.
    let table = unsafe { &mut *core::ptr::addr_of_mut!(CPU_TABLE) };
    for (i, e) in table.0.iter_mut().enumerate() {
        let base = (i as u64) << 30;
        let is_ram = base < ram.end && ram.start < base + (1 << 30);
        *e = base | BLOCK | AF | if is_ram { SH_INNER | (1 << 2) } else { XN };
    }
    let ttbr = table.0.as_ptr() as u64;
    let mair = MAIR_DEVICE_NGNRNE | (MAIR_NORMAL_WB << 8);
    // T0SZ = 25 (39-bit VA), inner/outer WB walks, inner shareable, 4K
    // granule, TTBR1 walks disabled (EPD1), 40-bit IPS.
    let tcr: u64 = 25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 32);
    // SAFETY: the table above maps all code, data and stack as RAM at the
    // same addresses, so execution continues seamlessly when M is set.
    unsafe {
        asm!(
            "dsb ish",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr}",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            "mrs {t}, sctlr_el1",
            "orr {t}, {t}, #(1 << 0)",   // M
            "orr {t}, {t}, #(1 << 2)",   // C
            "orr {t}, {t}, #(1 << 12)",  // I
            "msr sctlr_el1, {t}",
            "isb",
            mair = in(reg) mair,
            tcr = in(reg) tcr,
            ttbr = in(reg) ttbr,
            t = out(reg) _,
            options(nostack)
        );
    }
}

/// The generic timer's count and frequency, for timeouts.
pub fn now_ticks() -> u64 {
    let t: u64;
    // SAFETY: reading the virtual counter has no side effects.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) t, options(nostack)) };
    t
}

pub fn ticks_per_second() -> u64 {
    let f: u64;
    // SAFETY: as above.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) f, options(nostack)) };
    f
}

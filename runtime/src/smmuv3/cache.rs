//! Cache maintenance for SMMUs that do not snoop the CPU's caches (the node
//! is not `dma-coherent`, or SMMU_IDR0.COHACC is clear): what the CPU writes
//! for the SMMU (tables, commands) must be cleaned to the point of coherency,
//! and what the SMMU writes (event records) must be invalidated before the
//! CPU reads it. A coherent SMMU needs none of this; the driver skips it.

/// The smallest data-cache line, from CTR_EL0.DminLine.
#[cfg(target_arch = "aarch64")]
fn line_size() -> usize {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects (EL0-readable unless
    // trapped, always readable at EL1).
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    4 << ((ctr >> 16) & 0xf)
}

/// Cleans `[addr, addr + len)` to the point of coherency, then waits.
pub fn clean(addr: *const u8, len: usize) {
    #[cfg(target_arch = "aarch64")]
    {
        let line = line_size();
        let mut a = addr as usize & !(line - 1);
        let end = addr as usize + len;
        while a < end {
            // SAFETY: a cache clean by VA changes no memory contents; the
            // caller's range is mapped memory it owns.
            unsafe {
                core::arch::asm!("dc cvac, {}", in(reg) a, options(nostack, preserves_flags))
            };
            a += line;
        }
        // SAFETY: a barrier; ordering only.
        unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        let _ = (addr, len);
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    }
}

/// Cleans and invalidates `[addr, addr + len)` so the next CPU read fetches
/// what the SMMU wrote.
pub fn invalidate(addr: *const u8, len: usize) {
    #[cfg(target_arch = "aarch64")]
    {
        let line = line_size();
        let mut a = addr as usize & !(line - 1);
        let end = addr as usize + len;
        // SAFETY: a barrier; ordering only.
        unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
        while a < end {
            // SAFETY: clean + invalidate by VA keeps any dirty data (it is
            // written back first); the range is mapped memory the caller owns.
            unsafe {
                core::arch::asm!("dc civac, {}", in(reg) a, options(nostack, preserves_flags))
            };
            a += line;
        }
        // SAFETY: as above.
        unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        let _ = (addr, len);
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    }
}

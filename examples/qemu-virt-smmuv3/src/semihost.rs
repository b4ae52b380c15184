//! Arm semihosting: the exit call that carries the kernel's status to the
//! host (QEMU needs `-semihosting`).

const SYS_EXIT: u64 = 0x18;
/// ADP_Stopped_ApplicationExit: with it the second word is the exit code.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

pub fn exit(code: u32) -> ! {
    let block: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, code as u64];
    // SAFETY: `hlt #0xf000` is the AArch64 semihosting trap; x1 points at a
    // two-word parameter block that lives across the call.
    unsafe {
        core::arch::asm!(
            "hlt #0xf000",
            in("x0") SYS_EXIT,
            in("x1") block.as_ptr(),
            options(nostack)
        );
    }
    // Without -semihosting the call is not taken; stop here.
    loop {
        // SAFETY: waiting for an event has no other effect.
        unsafe { core::arch::asm!("wfe", options(nomem, nostack)) };
    }
}

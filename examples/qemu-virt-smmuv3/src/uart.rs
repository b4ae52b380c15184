//! The PL011 UART QEMU virt has at 0x0900_0000 (already set up by QEMU).

use core::fmt::{self, Write};

const UART_BASE: usize = 0x0900_0000;
const DR: usize = 0x00;
const FR: usize = 0x18;
const FR_TXFF: u32 = 1 << 5;

pub struct Uart;

impl Uart {
    fn put(&mut self, b: u8) {
        // SAFETY: the PL011 data and flag registers, mapped as Device memory
        // by the boot map (or accessed with the MMU off).
        unsafe {
            while core::ptr::read_volatile((UART_BASE + FR) as *const u32) & FR_TXFF != 0 {}
            core::ptr::write_volatile((UART_BASE + DR) as *mut u32, b as u32);
        }
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
        Ok(())
    }
}

pub fn print(args: fmt::Arguments<'_>) {
    let _ = Uart.write_fmt(args);
}

#[macro_export]
macro_rules! print {
    ($($t:tt)*) => { $crate::uart::print(format_args!($($t)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::uart::print(format_args!("\n")) };
    ($($t:tt)*) => {{ $crate::uart::print(format_args!($($t)*)); $crate::uart::print(format_args!("\n")) }};
}

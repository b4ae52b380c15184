//! Where a command's text goes: buffered streams, and a quiet stop when the
//! reader has gone (`iommugen check --format json … | head`).
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with
//! `BrokenPipe`, and `println!` turns that into a panic. Commands write
//! through these streams with `?` instead; [`finish`] turns a closed pipe
//! into the status a shell reports for a tool that SIGPIPE ended.

use std::fmt::Display;
use std::io::{self, BufWriter, StderrLock, StdoutLock, Write};
use std::process::ExitCode;

/// 128 + SIGPIPE (13): what `sh` reports for `cat big | head`'s `cat`.
pub const CLOSED_PIPE: u8 = 141;

/// Standard output, buffered (flush before returning).
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Standard error, buffered (flush before returning).
pub fn stderr() -> BufWriter<StderrLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stderr().lock())
}

/// One `error: …` line on standard error; a failure to write it is
/// ignored (there is nowhere left to report it).
pub fn error(msg: impl Display) {
    let _ = writeln!(io::stderr(), "error: {msg}");
}

/// The exit status of a command that wrote its output with `?`.
pub fn finish(result: io::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(CLOSED_PIPE),
        Err(e) => {
            error(format_args!("cannot write the output: {e}"));
            ExitCode::from(2)
        }
    }
}

//! Running the built `iommugen` from the CLI tests, and their scratch files.
#![allow(dead_code)]

pub mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `iommugen ARGS...` from the project root, output captured.
pub fn iommugen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the iommugen binary runs")
}

/// `iommugen ARGS...` with `input` on its standard input (written from a
/// thread, so a large input cannot deadlock against a full stdout pipe).
pub fn iommugen_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the iommugen binary runs");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The tool may exit before reading everything; that is its answer.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("iommugen finishes");
    writer.join().expect("the stdin writer");
    out
}

/// A fresh scratch folder for one test of one test file.
pub fn scratch(file: &str, test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iommugen-{file}-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Write `bytes` to `dir/name`; its path as text.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("a scratch file");
    p.display().to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

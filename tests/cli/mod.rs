//! Running the built `iommugen` from the CLI tests, and their scratch files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `iommugen ARGS...` from the project root, output captured.
pub fn iommugen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the iommugen binary runs")
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

//! The spec files a command reads: named files, `*.iommu` files below named
//! folders, and `-` for standard input (`check` and `fmt` share this).

use std::io::Read;
use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    /// `-`: standard input, read once.
    Stdin,
}

/// The name standard input goes by when `--stdin-filename` does not say.
pub const STDIN_NAME: &str = "<stdin>";

/// Every named file, every `*.iommu` below each named folder (sorted), and
/// standard input where `-` is named (at most once).
pub fn collect(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    let mut stdin = false;
    for p in paths {
        if p.as_os_str() == "-" {
            if stdin {
                return Err("standard input (`-`) can be named only once".to_owned());
            }
            stdin = true;
            out.push(Input::Stdin);
        } else if p.is_dir() {
            let before = out.len();
            walk(p, &mut out).map_err(|e| format!("cannot read folder {}: {e}", p.display()))?;
            if out.len() == before {
                return Err(format!("no *.iommu files found under {}", p.display()));
            }
        } else if p.is_file() {
            out.push(Input::File(p.clone()));
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "iommu") {
            out.push(Input::File(path));
        }
    }
    Ok(())
}

/// The input's name in messages (`stdin_name` for `-`) and its bytes.
pub fn read(input: &Input, stdin_name: &str) -> Result<(String, Vec<u8>), String> {
    match input {
        Input::File(path) => std::fs::read(path)
            .map(|bytes| (path.display().to_string(), bytes))
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Input::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map(|_| (stdin_name.to_owned(), bytes))
                .map_err(|e| format!("cannot read standard input: {e}"))
        }
    }
}

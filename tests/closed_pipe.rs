//! `iommugen … | head`: when the reader closes the pipe early, every
//! command stops quietly with the status a shell reports for a tool ended
//! by SIGPIPE (141), not a panic.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iommugen-pipe-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DRIVER: &str = "driver d@ {\n    compatible \"v,x@\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::d::probe;\n}\n";

/// `n` distinct clean drivers.
fn drivers(n: usize) -> String {
    (0..n)
        .map(|i| DRIVER.replace('@', &i.to_string()))
        .collect()
}

/// Which stream the reader closes.
#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Runs `iommugen args`, reads 100 bytes of `stream` and closes it; the
/// output must be far larger than a pipe holds (64 KiB), so the command's
/// later writes meet the closed pipe whatever the timing.
fn run_closing(args: &[&str], stream: Stream) -> (Option<i32>, String) {
    let full = Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .args(args)
        .output()
        .unwrap();
    let size = match stream {
        Stream::Stdout => full.stdout.len(),
        Stream::Stderr => full.stderr.len(),
    };
    assert!(
        size > 256 << 10,
        "only {size} bytes: too small to fill a pipe"
    );

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iommugen"));
    cmd.args(args);
    let (out, err) = match stream {
        Stream::Stdout => (Stdio::piped(), Stdio::piped()),
        Stream::Stderr => (Stdio::null(), Stdio::piped()),
    };
    let mut child = cmd.stdout(out).stderr(err).spawn().unwrap();
    let mut other = String::new();
    match stream {
        Stream::Stdout => {
            let mut pipe = child.stdout.take().unwrap();
            let mut head = [0u8; 100];
            pipe.read_exact(&mut head).unwrap();
            drop(pipe);
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut other)
                .unwrap();
        }
        Stream::Stderr => {
            let mut pipe = child.stderr.take().unwrap();
            let mut head = [0u8; 100];
            pipe.read_exact(&mut head).unwrap();
            drop(pipe);
        }
    }
    let status = child.wait().unwrap();
    (status.code(), other)
}

#[test]
fn check_json_to_a_closed_stdout() {
    let dir = scratch("check-json");
    // 3,000 drivers without `init`: one error each.
    let src = drivers(3_000).replace("    init crate::d::probe;\n", "");
    let f = dir.join("many.iommu");
    std::fs::write(&f, src).unwrap();
    let (code, err) = run_closing(
        &["check", "--format", "json", f.to_str().unwrap()],
        Stream::Stdout,
    );
    assert_eq!(code, Some(141), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn check_human_report_to_a_closed_stderr() {
    let dir = scratch("check-human");
    // Each error shows two windows of long lines: the first `cells` and
    // the repeat, 100 of them before the cap.
    let pad = format!(" /* {} */", "p".repeat(400));
    let mut src = DRIVER
        .replace('@', "0")
        .replace("    cells 1;", &format!("    cells 1;{pad}"));
    let repeats: String = (0..150)
        .map(|i| format!("    cells {i};{pad}\n\n\n"))
        .collect();
    src = src.replace("    id = sid;\n", &format!("    id = sid;\n{repeats}"));
    // A long path: each snippet's header names the file.
    let deep = dir.join(["d", "e", "f", "g", "h"].map(|c| c.repeat(200)).join("/"));
    std::fs::create_dir_all(&deep).unwrap();
    let f = deep.join("repeats.iommu");
    std::fs::write(&f, src).unwrap();
    let (code, _) = run_closing(&["check", f.to_str().unwrap()], Stream::Stderr);
    assert_eq!(code, Some(141));
}

#[test]
fn generate_to_a_closed_stdout() {
    let dir = scratch("generate");
    let f = dir.join("big.iommu");
    std::fs::write(&f, drivers(150)).unwrap();
    let (code, err) = run_closing(&["generate", f.to_str().unwrap()], Stream::Stdout);
    assert_eq!(code, Some(141), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn dt_json_to_a_closed_stdout() {
    let dir = scratch("dt");
    // Spec errors come out as JSON on stdout before the board is read.
    let f = dir.join("bad.iommu");
    std::fs::write(
        &f,
        drivers(3_000).replace("    init crate::d::probe;\n", ""),
    )
    .unwrap();
    let board = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dts/juno-mmu401.dts");
    let (code, err) = run_closing(
        &[
            "dt",
            "--format",
            "json",
            "--spec",
            f.to_str().unwrap(),
            board,
        ],
        Stream::Stdout,
    );
    assert_eq!(code, Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

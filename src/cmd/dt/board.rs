//! Reading the board: a `.dtb` as it is, or a `.dts` built the way Linux's
//! `scripts/Makefile.lib` builds one (`cmd_dtc`): the C preprocessor
//! (`cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp`, the `-I`
//! folders and `-D` macros given), then `dtc` on its output, with `-i` the
//! board's folder and the `-I` folders for dtc's own `/include/`. dtc runs
//! twice on the preprocessed text: once for the blob (its warnings are
//! read into [`DtcWarning`]s for the report; cpp's go to standard error
//! unchanged), once as `-O dts -T -T` for the node and property locations
//! ([`SourceMap`]). The source files are read once, for those locations'
//! columns and the report's excerpts ([`SourceTexts`]).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use iommugen::dt::dtc::{self, DtcWarning};
use iommugen::dt::{SourceMap, SourceTexts};

use super::Stop;

/// What the preprocessor and dtc are given besides the board.
pub struct BuildFlags<'a> {
    pub includes: &'a [PathBuf],
    pub defines: &'a [String],
}

/// The blob, and for a `.dts` where its nodes and properties are, the
/// sources' text and dtc's warnings.
pub struct Board {
    pub blob: Vec<u8>,
    pub sources: Option<SourceMap>,
    pub texts: SourceTexts,
    pub dtc_warnings: Vec<DtcWarning>,
}

pub fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "dts")
}

/// Read `path`: compiled when it is a `.dts`, else read as a blob.
pub fn load(path: &Path, flags: &BuildFlags<'_>) -> Result<Board, Stop> {
    if !is_source(path) {
        let blob =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return Ok(Board {
            blob,
            sources: None,
            texts: SourceTexts::new(),
            dtc_warnings: vec![],
        });
    }
    // A missing board is a reading problem (exit 2), not cpp's.
    std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let pre = preprocess(path, flags)?;
    // The two dtc runs are independent: side by side.
    let (blob, annotated) = std::thread::scope(|s| {
        let annotated = s.spawn(|| dtc(path, flags, &pre, &["-q", "-O", "dts", "-T", "-T"]));
        let blob = dtc(path, flags, &pre, &["-O", "dtb"]);
        let annotated = annotated
            .join()
            .unwrap_or_else(|_| Err(Stop::from("the annotating dtc run panicked".to_owned())));
        (blob, annotated)
    });
    let ((blob, warnings), (annotated, _)) = (blob?, annotated?);
    let mut map = SourceMap::from_annotated(&String::from_utf8_lossy(&annotated));
    let texts = SourceTexts::read(map.files(), |f| std::fs::read_to_string(f).ok());
    map.refine_columns(|f| texts.get(f).map(str::to_owned));
    Ok(Board {
        blob,
        sources: Some(map),
        texts,
        dtc_warnings: dtc::parse(&String::from_utf8_lossy(&warnings)),
    })
}

/// Standard error gets a tool's messages as the tool wrote them.
fn pass_through(stderr: &[u8]) -> Result<(), Stop> {
    if stderr.is_empty() {
        return Ok(());
    }
    let mut err = io::stderr().lock();
    err.write_all(stderr)?;
    err.flush()?;
    Ok(())
}

fn not_found(tool: &str, package: &str, path: &Path, e: &io::Error) -> Stop {
    match e.kind() {
        io::ErrorKind::NotFound => Stop::from(format!(
            "{} is a .dts source and `{tool}` is not installed: install the {package} \
             package (`bash .ci/setup` does), or pass a compiled .dtb",
            path.display()
        )),
        _ => Stop::from(format!("cannot run {tool}: {e}")),
    }
}

/// `cpp` as Linux runs it on a `.dts`; its output text.
fn preprocess(path: &Path, flags: &BuildFlags<'_>) -> Result<Vec<u8>, Stop> {
    let mut cmd = Command::new("cpp");
    cmd.args([
        "-nostdinc",
        "-undef",
        "-D__DTS__",
        "-x",
        "assembler-with-cpp",
    ]);
    for dir in flags.includes {
        cmd.arg("-I").arg(dir);
    }
    for d in flags.defines {
        cmd.arg(format!("-D{d}"));
    }
    let out = cmd
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| not_found("cpp", "cpp", path, &e))?;
    if !out.status.success() {
        // cpp's messages name the file and line (a missing #include, ...).
        return Err(Stop::input(format!(
            "cpp could not preprocess {}:\n{}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    pass_through(&out.stderr)?;
    Ok(out.stdout)
}

/// `dtc` on the preprocessed text (standard input) with `format` args;
/// its output and its warnings (standard error).
fn dtc(
    path: &Path,
    flags: &BuildFlags<'_>,
    pre: &[u8],
    format: &[&str],
) -> Result<(Vec<u8>, Vec<u8>), Stop> {
    let mut cmd = Command::new("dtc");
    // -Wno-iommus_property: dtc's own `iommus` check spins for minutes on
    // a huge #iommu-cells; the boot flow checks `iommus` itself and
    // reports such trees as errors.
    cmd.args(["-Wno-iommus_property", "-I", "dts"]).args(format);
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        cmd.arg("-i").arg(dir);
    }
    for dir in flags.includes {
        cmd.arg("-i").arg(dir);
    }
    let mut child = cmd
        .args(["-o", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| not_found("dtc", "device-tree-compiler", path, &e))?;
    let out = feed(&mut child, pre).map_err(|e| format!("cannot run dtc: {e}"))?;
    if !out.status.success() {
        // dtc's own messages give file:line:column (the original files,
        // through cpp's line markers).
        return Err(Stop::input(format!(
            "dtc could not compile {}:\n{}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    Ok((out.stdout, out.stderr))
}

/// Write `input` to the child's standard input from a thread (so a large
/// output cannot deadlock against it) and collect its output.
fn feed(child: &mut std::process::Child, input: &[u8]) -> io::Result<Output> {
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no standard input pipe"))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    std::thread::scope(|s| {
        // dtc may stop reading early (a syntax error): its answer is in
        // its status and messages, not in this write.
        s.spawn(move || {
            let _ = stdin.write_all(input);
        });
        let err = s.spawn(move || read_all(stderr));
        let stdout = read_all(stdout)?;
        let stderr = err
            .join()
            .map_err(|_| io::Error::other("stderr reader panicked"))??;
        let status = child.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    })
}

fn read_all(pipe: Option<impl io::Read>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        p.read_to_end(&mut buf)?;
    }
    Ok(buf)
}

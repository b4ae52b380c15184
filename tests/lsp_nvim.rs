//! `iommugen lsp` in a real editor: headless Neovim (`tests/editors/nvim.lua`)
//! starts the server, opens a spec with errors and reports the diagnostics
//! it shows; then it fixes the text, waits for them to clear, and reports a
//! hover and the document after the server's formatting edits. Neovim must be installed (`.ci/setup` installs it): a missing
//! `nvim` fails this test, it is never skipped.

mod cli;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use cli::{iommugen, scratch, stdout, write};

/// [`SPEC`] fixed (a wide enough field, an `init` hook), badly laid out.
const FIXED: &str = "driver t {\n    compatible   \"t,x\";\n  cells 1;\n    field sid: u16 = cell[0][15:0];\n    id=sid;\n    requests virtio-iommu { granule 4K; ias 48; }\n    init crate::t::probe;\n}\n";

const SPEC: &str = "driver t {\n    compatible \"t,x\";\n    cells 1;\n    field sid: u8 = cell[0][15:0];\n    id = sid;\n    requests virtio-iommu { granule 4K; ias 48; }\n}\n";

#[test]
fn neovim_shows_the_checkers_diagnostics() {
    let version = Command::new("nvim").arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "neovim (`nvim`) is not installed or does not run: install it (`apt-get install neovim`, as .ci/setup does); this test is not skipped"
    );
    let dir = scratch("lsp_nvim", "diagnostics");
    let spec = write(&dir, "t.iommu", SPEC);
    let fixed = write(&dir, "fixed.txt", FIXED);
    let result = dir.join("result.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/editors/nvim.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {script}"))
        .env("IOMMUGEN", env!("CARGO_BIN_EXE_iommugen"))
        .env("SPEC", &spec)
        .env("FIXED", &fixed)
        .env("RESULT", &result)
        .current_dir(&dir)
        .spawn()
        .expect("nvim starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("nvim's status").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nvim did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&result).expect("nvim.lua wrote its result");
    let got: Value = serde_json::from_str(&text).expect("JSON from nvim.lua");
    assert!(got.get("error").is_none(), "nvim.lua: {}", got["error"]);
    let shown = got["diagnostics"].as_array().expect("diagnostics");

    let out = iommugen(&["check", "--format", "json", &spec]);
    let want: Vec<Value> = serde_json::from_str(&stdout(&out)).expect("check's JSON");
    assert_eq!(shown.len(), want.len(), "{shown:#?}\n{want:#?}");
    for (s, w) in shown.iter().zip(&want) {
        let primary = w["labels"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["primary"] == true))
            .expect("a primary label");
        // ASCII source: byte columns (Neovim's) are UTF-16 columns.
        let n = |k: &str| primary[k].as_u64().unwrap_or(0) - 1;
        assert_eq!(
            (s["lnum"].as_u64(), s["col"].as_u64()),
            (Some(n("line")), Some(n("column"))),
            "{s}"
        );
        assert_eq!(
            (s["end_lnum"].as_u64(), s["end_col"].as_u64()),
            (Some(n("end_line")), Some(n("end_column"))),
            "{s}"
        );
        assert_eq!(s["code"], w["code"]);
        assert_eq!(s["source"], "iommugen");
        assert_eq!(s["severity"], 1, "error");
        let message = s["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with(w["message"].as_str().unwrap_or("?")),
            "{message}"
        );
    }

    // The fix cleared them (nvim.lua waited for it); hover and formatting
    // answered through Neovim's client.
    let hover = got["hover"].as_str().unwrap_or("");
    assert!(hover.contains("cells"), "hover on `cells`: {hover:?}");
    let out = cli::iommugen_with_stdin(&["fmt", "-"], FIXED.as_bytes());
    assert_eq!(
        got["formatted"].as_str().map(|f| format!("{f}\n")),
        Some(stdout(&out)),
        "the document after Neovim applied the server's edits is `iommugen fmt`'s output"
    );
}

//! `iommugen lsp` spoken to over its stdio, as an editor does: the
//! handshake, diagnostics identical to `iommugen check`'s (exact UTF-16
//! ranges), edits, formatting, symbols, hover, navigation, completion,
//! quick fixes, and the shutdown.

mod cli;
mod lsp;

use serde_json::{json, Value};

use cli::{iommugen, iommugen_with_stdin, scratch, stdout, write};
use lsp::{pos, Client};

/// A spec with two errors on a line with characters outside ASCII (and
/// outside the BMP) before them, one with a secondary label.
const BROKEN: &str = "/// t\ndriver t {\n    compatible \"t,x\";\n    cells 1;\n    cells 1;\n    /* 😀 é */ field sid: u8 = cell[0][15:0];\n    id = sid;\n    requests virtio-iommu { granule 4K; ias 48; }\n    init crate::p;\n}\n";

fn open(c: &mut Client, uri: &str, text: &str) {
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "iommu", "version": 1, "text": text } }),
    );
}

fn change(c: &mut Client, uri: &str, version: i64, changes: Value) {
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": changes }),
    );
}

fn doc(uri: &str) -> Value {
    json!({ "uri": uri })
}

fn at(uri: &str, line: u64, character: u64) -> Value {
    json!({ "textDocument": doc(uri), "position": pos(line, character) })
}

/// What `iommugen check --format json` says about `text`.
fn check_json(text: &str, test: &str) -> Vec<Value> {
    let dir = scratch("lsp_cli", test);
    let path = write(&dir, "t.iommu", text);
    let out = iommugen(&["check", "--format", "json", &path]);
    serde_json::from_str::<Vec<Value>>(&stdout(&out)).expect("check's JSON")
}

/// A JSON label's `(line, character)` range as the protocol counts it.
fn label_range(l: &Value) -> Value {
    let n = |k: &str| l[k].as_u64().expect("a number") - 1;
    json!({ "start": pos(n("line"), n("column_utf16")), "end": pos(n("end_line"), n("end_column_utf16")) })
}

fn same_as_check(got: &[Value], want: &[Value]) {
    assert_eq!(got.len(), want.len(), "{got:#?}\n{want:#?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g["code"], w["code"]);
        assert_eq!(
            g["severity"],
            json!(if w["severity"] == "error" { 1 } else { 2 })
        );
        let mut message = w["message"].as_str().unwrap_or_default().to_owned();
        if let Some(help) = w["help"].as_str() {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        assert_eq!(g["message"], json!(message));
        let labels = w["labels"].as_array().expect("labels");
        let primary = labels
            .iter()
            .find(|l| l["primary"] == true)
            .expect("a primary label");
        assert_eq!(g["range"], label_range(primary), "{}", w["code"]);
        let secondary: Vec<Value> = labels
            .iter()
            .filter(|l| l["primary"] == false)
            .map(|l| json!({ "location": { "uri": g["relatedInformation"][0]["location"]["uri"], "range": label_range(l) }, "message": l["label"] }))
            .collect();
        if secondary.is_empty() {
            assert!(g.get("relatedInformation").is_none() || g["relatedInformation"].is_null());
        } else {
            assert_eq!(g["relatedInformation"], json!(secondary));
        }
    }
}

#[test]
fn diagnostics_are_checks_and_clear_when_fixed_and_closed() {
    let (mut c, caps) = Client::start(None);
    assert_eq!(caps["capabilities"]["textDocumentSync"], json!(2));
    assert_eq!(caps["serverInfo"]["name"], "iommugen");
    for (n, eol) in ["\n", "\r\n"].into_iter().enumerate() {
        let text = BROKEN.replace('\n', eol);
        let uri = format!("file:///nowhere/t{n}.iommu");
        open(&mut c, &uri, &text);
        let got = c.diagnostics(&uri);
        let want = check_json(&text, &format!("diag{n}"));
        assert_eq!(want.len(), 2, "{want:#?}");
        same_as_check(&got, &want);
        assert_eq!(
            got[0]["relatedInformation"][0]["location"]["uri"],
            json!(uri)
        );
        // Fix both, incrementally: `u8` → `u16` (after the astral
        // character: UTF-16 columns), then drop the second `cells`.
        let line5 = text.split(eol).nth(5).expect("line 5");
        let col = line5[..line5.find("u8").expect("u8")]
            .encode_utf16()
            .count() as u64;
        change(
            &mut c,
            &uri,
            2,
            json!([
                { "range": { "start": pos(5, col), "end": pos(5, col + 2) }, "text": "u16" },
                { "range": { "start": pos(4, 0), "end": pos(5, 0) }, "text": "" },
            ]),
        );
        assert_eq!(c.diagnostics(&uri), Vec::<Value>::new(), "fixed");
        // Break it again with a full sync, then close: cleared.
        change(&mut c, &uri, 3, json!([{ "text": text }]));
        assert_eq!(c.diagnostics(&uri).len(), 2);
        c.notify(
            "textDocument/didClose",
            json!({ "textDocument": doc(&uri) }),
        );
        assert_eq!(c.diagnostics(&uri), Vec::<Value>::new(), "closed");
    }
    assert!(c.stop().success());
}

#[test]
fn a_lone_carriage_return_ends_a_line_as_the_editor_counts() {
    let (mut c, _) = Client::start(None);
    let uri = "file:///nowhere/cr.iommu";
    open(&mut c, uri, "driver t {\r    celss 1;\r}\r");
    let got = c.diagnostics(uri);
    let e0101 = got
        .iter()
        .find(|d| d["code"] == "iommu::E0101")
        .expect("E0101");
    assert_eq!(
        e0101["range"],
        json!({ "start": pos(1, 4), "end": pos(1, 9) })
    );
    // An edit by the same lines: `celss` → `cells`.
    change(
        &mut c,
        uri,
        2,
        json!([{ "range": { "start": pos(1, 4), "end": pos(1, 9) }, "text": "cells" }]),
    );
    let got = c.diagnostics(uri);
    assert!(got.iter().all(|d| d["code"] != "iommu::E0101"), "{got:#?}");
    assert!(c.stop().success());
}

#[test]
fn a_compatible_claimed_by_two_files_open_or_in_the_workspace() {
    let dir = scratch("lsp_cli", "cross");
    write(
        &dir,
        "disk.iommu",
        "driver on_disk { compatible \"w,disk\"; }\n",
    );
    let root = dir.display().to_string();
    let (mut c, _) = Client::start(Some(&root));
    let spec = |name: &str, compat: &str| format!("driver {name} {{ compatible \"{compat}\"; }}\n");
    let (a, b) = ("file:///nowhere/a.iommu", "file:///nowhere/b.iommu");
    open(&mut c, a, &spec("da", "x,y"));
    let e0601 = |ds: &[Value]| ds.iter().filter(|d| d["code"] == "iommu::E0601").count();
    assert_eq!(e0601(&c.diagnostics(a)), 0);
    open(&mut c, b, &spec("db", "x,y"));
    // The later of two files (by name) is where the claim is reported, as
    // `iommugen check a.iommu b.iommu` does; `a` is unchanged, not sent again.
    assert_eq!(e0601(&c.diagnostics(b)), 1);
    change(&mut c, b, 2, json!([{ "text": spec("db", "w,disk") }]));
    let after = c.diagnostics(b);
    assert_eq!(e0601(&after), 1, "claimed on disk: {after:#?}");
    assert!(
        after
            .iter()
            .any(|d| d["message"].as_str().unwrap_or("").contains("disk.iommu")),
        "{after:#?}"
    );
    assert!(c.stop().success());
}

const UNFORMATTED: &str = "driver   t{\ncompatible \"t,x\" ;cells 1;\n  field sid:u32=cell[0];id=sid;\n    requests virtio-iommu { granule 4K; ias 48; }\ninit crate::p;}\ndriver u { compatible \"u,x\"; }\n";

#[test]
fn formatting_is_the_formatter() {
    let (mut c, _) = Client::start(None);
    let uri = "file:///nowhere/f.iommu";
    open(&mut c, uri, UNFORMATTED);
    let want = stdout(&iommugen_with_stdin(&["fmt", "-"], UNFORMATTED.as_bytes()));
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": doc(uri), "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits.as_array().map(Vec::len), Some(1), "{edits}");
    assert_eq!(edits[0]["newText"], json!(want));
    assert_eq!(
        edits[0]["range"],
        json!({ "start": pos(0, 0), "end": pos(6, 0) })
    );
    // Only the drivers the range touches: the first.
    let edits = c.request("textDocument/rangeFormatting", json!({ "textDocument": doc(uri), "range": { "start": pos(1, 0), "end": pos(1, 3) }, "options": { "tabSize": 4, "insertSpaces": true } }));
    let first = want.split("\n\n").next().unwrap_or_default();
    assert_eq!(edits[0]["newText"], json!(first), "{edits}");
    assert_eq!(edits[0]["range"]["end"], pos(4, 15));
    // Syntax errors: the formatter refuses, no edit.
    change(&mut c, uri, 2, json!([{ "text": "driver t { cells 1 " }]));
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": doc(uri), "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!([]));
    assert!(c.stop().success());
}

const SPEC: &str = "driver t {\n    compatible \"t,x\";\n    cells 1 | 2;\n    field sid: u16 = cell[0][15:0];\n    field mask: u16 = cell[1][15:0] else 0;\n    ignore cell[0][31:16], cell[1][31:16];\n    check sid < 8;\n    id = mask << 16 | sid;\n    page-table arm-lpae-s1 {\n        granule 4K;\n        ias 48;\n        oas 48;\n        pool 64;\n    }\n    init crate::p;\n}\n";

#[test]
fn symbols_folding_hover_navigation_completion() {
    let (mut c, _) = Client::start(None);
    let uri = "file:///nowhere/s.iommu";
    open(&mut c, uri, SPEC);
    assert_eq!(c.diagnostics(uri), Vec::<Value>::new());

    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": doc(uri) }),
    );
    assert_eq!(symbols[0]["name"], "t");
    assert_eq!(
        symbols[0]["range"],
        json!({ "start": pos(0, 0), "end": pos(15, 1) })
    );
    let children: Vec<&str> = symbols[0]["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        children,
        [
            "compatible",
            "cells",
            "sid",
            "mask",
            "ignore",
            "check",
            "id",
            "page-table",
            "init"
        ]
    );
    assert_eq!(symbols[0]["children"][2]["detail"], "u16");
    assert_eq!(
        symbols[0]["children"][2]["selectionRange"],
        json!({ "start": pos(3, 10), "end": pos(3, 13) })
    );
    assert_eq!(symbols[0]["children"][7]["children"][0]["name"], "granule");

    let folds = c.request(
        "textDocument/foldingRange",
        json!({ "textDocument": doc(uri) }),
    );
    let lines: Vec<(u64, u64)> = folds
        .as_array()
        .expect("folds")
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap_or(0),
                f["endLine"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(lines, [(0, 15), (8, 13)]);

    let hover = |c: &mut Client, line, ch| {
        c.request("textDocument/hover", at(uri, line, ch))["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert!(hover(&mut c, 2, 5).starts_with("`cells N;`"));
    assert!(hover(&mut c, 8, 20).contains("stage 1"), "format name");
    assert!(
        hover(&mut c, 10, 9).contains("input (IOVA or IPA) address size"),
        "parameter"
    );
    let field = hover(&mut c, 6, 11);
    assert!(
        field.starts_with("field `sid`: `u16`") && field.contains("cell[0][15:0]"),
        "{field}"
    );
    let cell = hover(&mut c, 4, 24);
    assert!(
        cell.contains("- `mask: u16` = `cell[1][15:0]`")
            && cell.contains("Ignored: `cell[1][31:16]`"),
        "{cell}"
    );

    let def = c.request("textDocument/definition", at(uri, 7, 23));
    assert_eq!(
        def,
        json!({ "uri": uri, "range": { "start": pos(3, 10), "end": pos(3, 13) } })
    );
    let refs = c.request("textDocument/references", json!({ "textDocument": doc(uri), "position": pos(3, 11), "context": { "includeDeclaration": false } }));
    let ranges: Vec<&Value> = refs
        .as_array()
        .expect("refs")
        .iter()
        .map(|r| &r["range"])
        .collect();
    assert_eq!(
        ranges,
        [
            &json!({ "start": pos(6, 10), "end": pos(6, 13) }),
            &json!({ "start": pos(7, 22), "end": pos(7, 25) })
        ]
    );

    let labels = |v: Value| -> Vec<String> {
        v.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i["label"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        labels(c.request("textDocument/completion", at(uri, 6, 10))),
        ["sid", "mask"]
    );
    let in_table = labels(c.request("textDocument/completion", at(uri, 10, 8)));
    assert!(
        in_table.contains(&"granule".to_owned()) && !in_table.contains(&"cells".to_owned()),
        "{in_table:?}"
    );
    let formats = labels(c.request("textDocument/completion", at(uri, 8, 15)));
    assert!(formats.contains(&"arm-lpae-s2".to_owned()), "{formats:?}");
    assert!(c.stop().success());
}

#[test]
fn quick_fixes_for_the_checkers_diagnostics() {
    let (mut c, _) = Client::start(None);
    let uri = "file:///nowhere/q.iommu";
    let text = SPEC
        .replace("field sid: u16", "field sid: u8")
        .replace("    init crate::p;\n", "")
        .replace("granule 4K", "granul 4K");
    open(&mut c, uri, &text);
    let diags = c.diagnostics(uri);
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(
        codes.contains(&"iommu::E0101") && codes.contains(&"iommu::E0203"),
        "{codes:?}"
    );
    let whole = json!({ "start": pos(0, 0), "end": pos(99, 0) });
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": doc(uri), "range": whole, "context": { "diagnostics": [] } }),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Replace `granul` with `granule`"),
        "{titles:?}"
    );
    assert!(titles.contains(&"Widen `sid` to `u16`"), "{titles:?}");
    let widen = actions
        .as_array()
        .and_then(|a| a.iter().find(|a| a["title"] == "Widen `sid` to `u16`"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        widen["edit"]["changes"][uri][0],
        json!({ "range": { "start": pos(3, 15), "end": pos(3, 17) }, "newText": "u16" })
    );
    // The missing `init` is reported only once the syntax error is gone.
    change(
        &mut c,
        uri,
        2,
        json!([{ "text": text.replace("granul 4K", "granule 4K") }]),
    );
    let _ = c.diagnostics(uri);
    let actions = c.request("textDocument/codeAction", json!({ "textDocument": doc(uri), "range": { "start": pos(0, 7), "end": pos(0, 8) }, "context": { "diagnostics": [] } }));
    let add = &actions[0];
    assert_eq!(add["title"], "Add `init`: `init crate::smmu::probe;`");
    assert_eq!(
        add["edit"]["changes"][uri][0]["newText"],
        "    init crate::smmu::probe;\n"
    );
    assert!(c.stop().success());
}

#[test]
fn unknown_methods_bad_positions_and_exit_without_shutdown() {
    let (mut c, _) = Client::start(None);
    let r = c.call("textDocument/unheardOf", json!({}));
    assert_eq!(r["error"]["code"], json!(-32601));
    let r = c.call("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(r["error"]["code"], json!(-32602));
    let uri = "file:///nowhere/p.iommu";
    open(&mut c, uri, SPEC);
    for p in [
        pos(9999, 0),
        pos(0, 99999),
        pos(u32::MAX.into(), u32::MAX.into()),
    ] {
        for m in [
            "textDocument/hover",
            "textDocument/definition",
            "textDocument/completion",
        ] {
            let r = c.call(m, json!({ "textDocument": doc(uri), "position": p }));
            assert!(r.get("error").is_none(), "{m}: {r}");
        }
    }
    // An edit far past the end appends.
    change(
        &mut c,
        uri,
        2,
        json!([{ "range": { "start": pos(500, 9), "end": pos(400, 0) }, "text": "driver" }]),
    );
    let r = c.call(
        "textDocument/documentSymbol",
        json!({ "textDocument": doc(uri) }),
    );
    assert!(r.get("error").is_none(), "{r}");
    // Not open: a null answer.
    let r = c.request(
        "textDocument/hover",
        at("file:///nowhere/closed.iommu", 0, 0),
    );
    assert_eq!(r, Value::Null);
    c.notify("exit", Value::Null);
    assert!(
        !c.stdin_closed().success(),
        "exit without shutdown is status 1"
    );
}

//! The language server's state driven in-process (no process spawned):
//! random edit sequences and requests, hostile documents. Every request
//! must get an answer to its id, and nothing may panic.

use iommugen::lsp::Server;
use lsp_server::{Notification, Request, RequestId};
use proptest::prelude::*;
use serde_json::{json, Value};

const URI: &str = "file:///state/t.iommu";

const METHODS: [&str; 10] = [
    "textDocument/formatting",
    "textDocument/rangeFormatting",
    "textDocument/documentSymbol",
    "textDocument/foldingRange",
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/completion",
    "textDocument/codeAction",
    "textDocument/noSuchThing",
];

fn pos(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

fn notify(s: &mut Server, method: &str, params: Value) {
    s.notify(Notification::new(method.to_owned(), params));
}

fn open(s: &mut Server, text: &str) {
    notify(
        s,
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "iommu", "version": 1, "text": text } }),
    );
}

/// Sends one request of every kind at `at` and checks each answer.
fn ask_everything(s: &mut Server, at: Value, n: &mut i32) {
    let range = json!({ "start": at, "end": at });
    for m in METHODS {
        *n += 1;
        let params = json!({
            "textDocument": { "uri": URI },
            "position": at,
            "range": range,
            "options": { "tabSize": 4, "insertSpaces": true },
            "context": { "includeDeclaration": true, "diagnostics": [], "triggerKind": 1 },
        });
        let r = s.request(Request::new(RequestId::from(*n), m.to_owned(), params));
        assert_eq!(r.id, RequestId::from(*n));
        assert!(
            r.result.is_some() != r.error.is_some(),
            "{m}: one of result and error"
        );
        if m == "textDocument/noSuchThing" {
            assert_eq!(r.error.map(|e| e.code), Some(-32601));
        } else {
            assert!(r.error.is_none(), "{m}: {:?}", r.error);
        }
    }
}

/// Pieces random edits insert: the language's words and punctuation,
/// line ends of every kind, characters outside ASCII and the BMP.
const PIECES: [&str; 20] = [
    "driver d {",
    "}",
    "{",
    ";",
    "\n",
    "\r\n",
    "\r",
    "field s: u8 = cell[0];",
    "check s < (1",
    ")",
    "page-table arm-lpae-s1 { granule 4K; }",
    "compatible \"a,b\";",
    "\"",
    "/*",
    "*/",
    "//",
    "é😀",
    "cell[9]",
    "\u{feff}",
    "id = s << 3 | s;",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_request_is_answered_after_any_edits(
        start in "[ -~\\n\\r\\t]{0,200}",
        edits in prop::collection::vec((0u32..12, 0u32..60, 0u32..12, 0u32..60, prop_oneof![
            (0usize..PIECES.len()).prop_map(|i| PIECES[i].to_owned()),
            "\\PC{0,12}",
        ], any::<bool>()), 1..16)
    ) {
        let mut s = Server::new(&Default::default());
        let mut n = 0;
        open(&mut s, &start);
        let _ = s.diagnose();
        for (l0, c0, l1, c1, text, full) in edits {
            let change = if full {
                json!({ "text": text })
            } else {
                json!({ "range": { "start": pos(l0, c0), "end": pos(l1, c1) }, "text": text })
            };
            notify(&mut s, "textDocument/didChange", json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [change] }));
            let published = s.diagnose();
            prop_assert!(published.len() <= 1);
            ask_everything(&mut s, pos(l0, c0), &mut n);
        }
        notify(&mut s, "textDocument/didClose", json!({ "textDocument": { "uri": URI } }));
        let cleared = s.diagnose();
        prop_assert_eq!(cleared.len(), 1);
        prop_assert_eq!(&cleared[0].params["diagnostics"], &json!([]));
    }
}

/// Documents built to hurt: a megabyte line, nesting a million levels
/// deep (parentheses, braces, `!`), random bytes made text.
#[test]
fn hostile_documents_get_answers() {
    let mb = "x".repeat(1 << 20);
    let docs = [
        format!("driver d {{ check {mb} < 1; }}"),
        format!("// {mb}\ndriver d {{ }}"),
        format!(
            "driver d {{ check {}1{}; }}",
            "(".repeat(1_000_000),
            ")".repeat(1_000_000)
        ),
        format!("driver d {{ check {}1; }}", "!".repeat(1_000_000)),
        "{".repeat(1_000_000),
        "}".repeat(1_000_000),
        format!("driver d {{ id = {}; }}", "a | ".repeat(200_000) + "a"),
        String::from_utf8_lossy(&(0..=255u8).cycle().take(100_000).collect::<Vec<u8>>())
            .into_owned(),
    ];
    for text in &docs {
        let mut s = Server::new(&Default::default());
        let mut n = 0;
        open(&mut s, text);
        let published = s.diagnose();
        assert_eq!(published.len(), 1);
        let sent = published[0].params["diagnostics"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(sent <= iommugen::lsp::server::PUBLISHED);
        for at in [
            pos(0, 0),
            pos(0, 20),
            pos(0, 1 << 19),
            pos(1, 5),
            pos(u32::MAX, u32::MAX),
        ] {
            ask_everything(&mut s, at, &mut n);
        }
        // An edit in the middle of the big line.
        notify(
            &mut s,
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "range": { "start": pos(0, 1 << 19), "end": pos(0, (1 << 19) + 3) }, "text": "é😀\r" }] }),
        );
        let _ = s.diagnose();
        ask_everything(&mut s, pos(0, 1 << 19), &mut n);
    }
}

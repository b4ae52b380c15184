//! Latency of one edit in `iommugen lsp`: a file of 10,000 drivers open,
//! one character changed in the middle driver, then the diagnostics the
//! server publishes (the re-check and the conversion to protocol ranges).
//! The server state is driven in-process, as the binary's loop drives it.
//! The figure is quoted in `book/src/editors.md`.

use criterion::{criterion_group, criterion_main, Criterion};
use iommugen::lsp::Server;
use lsp_server::Notification;
use serde_json::json;

#[path = "../dsl/benches/specs/mod.rs"]
mod specs;
use specs::generated_spec;

const URI: &str = "file:///bench/gen.iommu";

fn bench(c: &mut Criterion) {
    let n = 10_000;
    let text = generated_spec(n);
    // The `15` of the middle driver's check.
    let line = (n / 2) * 13 + 6;
    let mut server = Server::new(&Default::default());
    server.notify(Notification::new(
        "textDocument/didOpen".to_owned(),
        json!({ "textDocument": { "uri": URI, "languageId": "iommu", "version": 1, "text": text } }),
    ));
    let first = server.diagnose();
    assert_eq!(first.len(), 1, "one publish for the opened file");
    let mut version = 1;
    let mut edit = |server: &mut Server, column: u32, end: u32, text: &str| {
        version += 1;
        server.notify(Notification::new(
            "textDocument/didChange".to_owned(),
            json!({
                "textDocument": { "uri": URI, "version": version },
                "contentChanges": [{ "range": { "start": { "line": line, "character": column }, "end": { "line": line, "character": end } }, "text": text }],
            }),
        ));
        server.diagnose()
    };
    // `check stream_id < 1 << 15;`: the `5` (column 28) becomes `6` and
    // back, a real change each time that leaves the file clean.
    let mut flip = false;
    c.bench_function("lsp_edit_10k_drivers", |b| {
        b.iter(|| {
            flip = !flip;
            let published = edit(&mut server, 28, 29, if flip { "6" } else { "5" });
            assert!(published.is_empty(), "still clean: nothing to send");
        })
    });
    // Typing a half statement after the `;` and taking it back: a syntax
    // error appears and goes, so each edit publishes diagnostics.
    flip = false;
    c.bench_function("lsp_edit_10k_drivers_syntax_error", |b| {
        b.iter(|| {
            flip = !flip;
            let published = if flip {
                edit(&mut server, 30, 30, " chec")
            } else {
                edit(&mut server, 30, 35, "")
            };
            assert_eq!(published.len(), 1);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);

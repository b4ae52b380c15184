//! `iommugen lsp`: a language server over stdio (issue 11).
//!
//! Synchronous: rust-analyzer's `lsp-server` reads and writes the
//! JSON-RPC frames on its own threads, and this loop answers one message
//! at a time ([`Server`](crate::lsp::server::Server) holds the state; [`convert`](crate::lsp::convert) turns the
//! dsl's byte spans into the protocol's UTF-16 positions). Diagnostics are
//! computed once the queue is empty, so a burst of keystrokes is checked
//! once. A panic while answering is caught and answered as an internal
//! error: no document or edit sequence ends the server.
//!
//! The module is part of the library (behind `cli`) so that the benchmark
//! and the in-process tests drive the same state the binary does.

pub mod convert;
pub mod server;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use lsp_server::{Connection, ErrorCode, Message, Response};
use lsp_types::notification::{Exit, Notification as _};

pub use server::Server;

/// Serves on stdin/stdout until `exit`. `Ok(true)` when `exit` came after
/// `shutdown` (exit status 0, as the protocol asks), `Ok(false)` for an
/// `exit` without it or a closed input.
pub fn run() -> Result<bool, String> {
    let (connection, io) = Connection::stdio();
    let outcome = serve(&connection);
    drop(connection);
    io.join().map_err(|e| e.to_string())?;
    outcome
}

/// The initialize handshake, then the message loop.
pub fn serve(connection: &Connection) -> Result<bool, String> {
    let caps = serde_json::to_value(server::capabilities()).map_err(|e| e.to_string())?;
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let init: lsp_types::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let info = serde_json::json!({
        "capabilities": caps,
        "serverInfo": { "name": "iommugen", "version": env!("CARGO_PKG_VERSION") },
    });
    connection
        .initialize_finish(id, info)
        .map_err(|e| e.to_string())?;
    let mut server = Server::new(&init);
    while let Ok(msg) = connection.receiver.recv() {
        match msg {
            Message::Request(r) => {
                let id = r.id.clone();
                let answer =
                    catch_unwind(AssertUnwindSafe(|| server.request(r))).unwrap_or_else(|_| {
                        Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            "internal error (a bug: please report it)".to_owned(),
                        )
                    });
                send(connection, answer.into())?;
            }
            Message::Notification(n) if n.method == Exit::METHOD => {
                return Ok(server.is_shut_down())
            }
            Message::Notification(n) => {
                // A panic leaves the text as far as it got; the next full
                // sync repairs it.
                let _ = catch_unwind(AssertUnwindSafe(|| server.notify(n)));
            }
            Message::Response(_) => {}
        }
        if connection.receiver.is_empty() {
            let published =
                catch_unwind(AssertUnwindSafe(|| server.diagnose())).unwrap_or_default();
            for n in published {
                send(connection, n.into())?;
            }
        }
    }
    Ok(false)
}

fn send(connection: &Connection, msg: Message) -> Result<(), String> {
    connection.sender.send(msg).map_err(|e| e.to_string())
}

/// Calls `found` with each `*.iommu` file under `dir` and its text (files
/// that are not UTF-8 are left out), skipping hidden folders and `target`,
/// at most 10,000 files and 16 folders deep: a workspace opened at `/`
/// must not stall the server.
pub fn workspace_files(dir: &Path, found: &mut dyn FnMut(&Path, String)) {
    let mut todo = vec![(dir.to_path_buf(), 0)];
    let mut files = 0;
    while let Some((dir, depth)) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if depth < 16 && !name.starts_with('.') && name != "target" {
                    todo.push((path, depth + 1));
                }
            } else if kind.is_file() && name.ends_with(".iommu") {
                files += 1;
                if files > 10_000 {
                    return;
                }
                if let Ok(text) = std::fs::read_to_string(&path) {
                    found(&path, text);
                }
            }
        }
    }
}

//! A small JSON-RPC client for the language-server tests: spawns the built
//! `iommugen lsp`, frames messages, and sorts what comes back into answers
//! and notifications.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any one answer may take before the test fails (debug build,
/// shared machine: generous; this bounds a hang, it is no timing test).
const PATIENCE: Duration = Duration::from_secs(60);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Notifications received while waiting for an answer.
    pending: VecDeque<Value>,
    next_id: i64,
}

impl Client {
    /// Starts `iommugen lsp` and runs the initialize handshake with
    /// `root` as the workspace (or none).
    pub fn start(root: Option<&str>) -> (Client, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_iommugen"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("iommugen lsp starts");
        let stdout = child.stdout.take().expect("a stdout pipe");
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_frame(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming: rx,
            pending: VecDeque::new(),
            next_id: 1,
        };
        let root_uri = root.map(|r| format!("file://{r}"));
        let caps = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": root_uri, "capabilities": {} }),
        );
        c.notify("initialized", json!({}));
        (c, caps)
    }

    pub fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        let stdin = self.stdin.as_mut().expect("stdin still open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("the server reads");
        stdin.flush().expect("the server reads");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let msg = self.recv(deadline, method);
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    /// A request's `result`; fails the test on an error answer.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.call(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r.get("result").cloned().unwrap_or(Value::Null)
    }

    /// The next `publishDiagnostics` for `uri`.
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let msg = match self.pending.pop_front() {
                Some(m) => m,
                None => self.recv(deadline, "publishDiagnostics"),
            };
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                return msg["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    fn recv(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("no answer to {what} in {PATIENCE:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the server closed its output waiting for {what}")
            }
        }
    }

    /// Closes the server's input and waits for it to exit.
    pub fn stdin_closed(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.child.wait().expect("the server exits")
    }

    /// `shutdown`, `exit`, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().expect("the server exits")
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test must not leave the server running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// `{line, character}`.
pub fn pos(line: u64, character: u64) -> Value {
    json!({ "line": line, "character": character })
}

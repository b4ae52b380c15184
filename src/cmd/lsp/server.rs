//! The server's state and its answer to each message, apart from any
//! transport: `mod.rs` feeds it what stdio brings, tests and the benchmark
//! feed it directly. Every answer calls the dsl crate: the checker for
//! diagnostics (`diagnose_sources`, as `iommugen check` does), its
//! formatter, and `iommugen_dsl::ide` for the rest.

use std::collections::BTreeMap;

use iommugen_dsl::ide::position::{self, Positions};
use iommugen_dsl::ide::recheck::{self, Document};
use iommugen_dsl::ide::{actions, complete, folding, hover, navigate, outline};
use iommugen_dsl::Diagnostic;
use lsp_server::{ErrorCode, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use serde_json::Value;

use super::convert;

/// Diagnostics sent per document, the first by position: no editor
/// shows a million (a file of a million stray `}` has as many errors), and
/// converting them all would stall every keystroke. `iommugen check`
/// reports them all.
pub const PUBLISHED: usize = 1000;

/// An open document: the editor's text with what the checker said of
/// each driver, and its diagnostics.
struct Doc {
    doc: Document,
    diagnostics: Vec<Diagnostic>,
    /// What the editor was last sent (only changes are sent again).
    published: Option<Vec<lsp::Diagnostic>>,
}

/// Everything the server knows: open documents, the workspace's other
/// `*.iommu` files (for the cross-file compatible rule), and whether the
/// diagnostics are stale.
#[derive(Default)]
pub struct Server {
    open: BTreeMap<lsp::Url, Doc>,
    /// Workspace files not open, as on disk when the server started (or
    /// when closed in the editor).
    disk: BTreeMap<lsp::Url, Document>,
    /// Documents closed since the last [`Server::diagnose`]: their
    /// diagnostics are cleared.
    closed: Vec<lsp::Url>,
    stale: bool,
    shut_down: bool,
}

/// What the server offers: full and incremental sync is the client's
/// choice of `INCREMENTAL` (a change without a range replaces the text).
pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::INCREMENTAL,
        )),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_range_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![" ".to_owned(), "-".to_owned()]),
            ..Default::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    }
}

impl Server {
    /// A server for the workspace `init` names: its `*.iommu` files are
    /// read once, for the rules that span files.
    pub fn new(init: &lsp::InitializeParams) -> Self {
        let mut s = Server::default();
        #[allow(deprecated)] // older clients send only `rootUri`
        let roots: Vec<lsp::Url> = match &init.workspace_folders {
            Some(f) if !f.is_empty() => f.iter().map(|f| f.uri.clone()).collect(),
            _ => init.root_uri.iter().cloned().collect(),
        };
        for root in roots {
            if let Ok(dir) = root.to_file_path() {
                super::workspace_files(&dir, &mut |path, text| {
                    if let Ok(uri) = lsp::Url::from_file_path(path) {
                        s.disk.insert(uri, Document::new(text));
                    }
                });
            }
        }
        s
    }

    /// Whether `shutdown` was answered (the next `exit` then succeeds).
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// Applies a notification. Text changes take effect at once (requests
    /// after them see the new text); diagnostics wait for
    /// [`Server::diagnose`], so a burst of edits is checked once.
    pub fn notify(&mut self, n: Notification) {
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) {
                    self.disk.remove(&p.text_document.uri);
                    self.open.insert(
                        p.text_document.uri,
                        Doc {
                            doc: Document::new(p.text_document.text),
                            diagnostics: Vec::new(),
                            published: None,
                        },
                    );
                    self.stale = true;
                }
            }
            note::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                {
                    if let Some(doc) = self.open.get_mut(&p.text_document.uri) {
                        for change in p.content_changes {
                            apply(&mut doc.doc, change);
                        }
                        self.stale = true;
                    }
                }
            }
            note::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    if self.open.remove(&uri).is_some() {
                        // Back to what is on disk, for the rules across files.
                        if let Some(text) = uri
                            .to_file_path()
                            .ok()
                            .and_then(|p| std::fs::read_to_string(p).ok())
                        {
                            self.disk.insert(uri.clone(), Document::new(text));
                        }
                        self.closed.push(uri);
                        self.stale = true;
                    }
                }
            }
            _ => {}
        }
    }

    /// Checks every open document with the workspace's files (as
    /// `iommugen check` checks several files together) if anything changed,
    /// and returns a `publishDiagnostics` for each document whose
    /// diagnostics differ from what was last sent, and each one closed.
    pub fn diagnose(&mut self) -> Vec<Notification> {
        let mut out = Vec::new();
        for uri in self.closed.drain(..) {
            out.push(publish(uri, Vec::new()));
        }
        if !self.stale {
            return out;
        }
        self.stale = false;
        self.check();
        for (uri, doc) in &mut self.open {
            if doc.diagnostics.is_empty() && doc.published.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            let lines = Positions::new(doc.doc.text());
            let now: Vec<lsp::Diagnostic> = doc
                .diagnostics
                .iter()
                .take(PUBLISHED)
                .map(|d| convert::diagnostic(uri, &lines, d))
                .collect();
            if doc.published.as_ref() != Some(&now) {
                out.push(publish(uri.clone(), now.clone()));
                doc.published = Some(now);
            }
        }
        out
    }

    /// Runs the checker over the open documents (and, when some are open,
    /// the workspace's other files: only they can claim a compatible an
    /// open one claims too). Each [`Document`] re-read only what its edits
    /// touched; what spans drivers and files is worked out again here.
    fn check(&mut self) {
        let name = |uri: &lsp::Url| {
            uri.to_file_path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| uri.to_string())
        };
        // The workspace's files first: a compatible claimed twice is
        // reported in the later file, which should be the open one.
        let names: Vec<String> = self.disk.keys().chain(self.open.keys()).map(name).collect();
        let mut docs: Vec<(&str, &Document)> = Vec::with_capacity(names.len());
        if !self.open.is_empty() {
            docs.extend(names.iter().map(String::as_str).zip(self.disk.values()));
        }
        let skip = docs.len();
        let open_names = names[self.disk.len()..].iter().map(String::as_str);
        docs.extend(open_names.zip(self.open.values().map(|d| &d.doc)));
        let results = recheck::diagnose_documents(&docs);
        for (doc, diagnostics) in self.open.values_mut().zip(results.into_iter().skip(skip)) {
            doc.diagnostics = diagnostics;
        }
    }

    /// Answers one request; every request gets an answer, never a panic
    /// (`mod.rs` also catches one, as a last resort).
    pub fn request(&mut self, r: Request) -> Response {
        let id = r.id.clone();
        if self.shut_down {
            return Response::new_err(
                id,
                ErrorCode::InvalidRequest as i32,
                "the server is shut down".to_owned(),
            );
        }
        let answer = match r.method.as_str() {
            req::Shutdown::METHOD => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            req::Formatting::METHOD => self
                .with(r.params, |s, p: lsp::DocumentFormattingParams| {
                    s.format(&p.text_document.uri, None)
                }),
            req::RangeFormatting::METHOD => {
                self.with(r.params, |s, p: lsp::DocumentRangeFormattingParams| {
                    s.format(&p.text_document.uri, Some(p.range))
                })
            }
            req::DocumentSymbolRequest::METHOD => {
                self.with(r.params, |s, p: lsp::DocumentSymbolParams| {
                    s.doc(&p.text_document.uri, |text, lines| {
                        let (spec, _) = iommugen_dsl::parse::parse(text);
                        let symbols: Vec<_> = outline::symbols(&spec)
                            .iter()
                            .map(|x| convert::symbol(lines, x))
                            .collect();
                        lsp::DocumentSymbolResponse::Nested(symbols)
                    })
                })
            }
            req::FoldingRangeRequest::METHOD => {
                self.with(r.params, |s, p: lsp::FoldingRangeParams| {
                    s.doc(&p.text_document.uri, |text, lines| {
                        let (spec, _) = iommugen_dsl::parse::parse(text);
                        folding::ranges(text, &spec)
                            .iter()
                            .filter_map(|(span, kind)| convert::folding(lines, span, *kind))
                            .collect::<Vec<_>>()
                    })
                })
            }
            req::HoverRequest::METHOD => self.with(r.params, |s, p: lsp::HoverParams| {
                let at = p.text_document_position_params;
                s.doc(&at.text_document.uri, |text, lines| {
                    let (spec, _) = iommugen_dsl::parse::parse(text);
                    hover::hover(text, &spec, convert::offset(lines, at.position)).map(|h| {
                        lsp::Hover {
                            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                                kind: lsp::MarkupKind::Markdown,
                                value: h.text,
                            }),
                            range: Some(convert::range(lines, &h.span)),
                        }
                    })
                })
            }),
            req::GotoDefinition::METHOD => {
                self.with(r.params, |s, p: lsp::GotoDefinitionParams| {
                    let at = p.text_document_position_params;
                    let uri = at.text_document.uri.clone();
                    s.doc(&at.text_document.uri, |text, lines| {
                        let (spec, _) = iommugen_dsl::parse::parse(text);
                        navigate::definition(&spec, convert::offset(lines, at.position)).map(
                            |span| {
                                lsp::GotoDefinitionResponse::Scalar(lsp::Location::new(
                                    uri,
                                    convert::range(lines, &span),
                                ))
                            },
                        )
                    })
                })
            }
            req::References::METHOD => self.with(r.params, |s, p: lsp::ReferenceParams| {
                let at = p.text_document_position;
                let uri = at.text_document.uri.clone();
                s.doc(&at.text_document.uri, |text, lines| {
                    let (spec, _) = iommugen_dsl::parse::parse(text);
                    navigate::references(
                        &spec,
                        convert::offset(lines, at.position),
                        p.context.include_declaration,
                    )
                    .iter()
                    .map(|span| lsp::Location::new(uri.clone(), convert::range(lines, span)))
                    .collect::<Vec<_>>()
                })
            }),
            req::Completion::METHOD => self.with(r.params, |s, p: lsp::CompletionParams| {
                let at = p.text_document_position;
                s.doc(&at.text_document.uri, |text, lines| {
                    let items: Vec<lsp::CompletionItem> =
                        complete::candidates(text, convert::offset(lines, at.position))
                            .into_iter()
                            .map(|c| lsp::CompletionItem {
                                kind: Some(match c.kind {
                                    complete::CandidateKind::Keyword => {
                                        lsp::CompletionItemKind::KEYWORD
                                    }
                                    complete::CandidateKind::Format => {
                                        lsp::CompletionItemKind::ENUM_MEMBER
                                    }
                                    complete::CandidateKind::Field => {
                                        lsp::CompletionItemKind::FIELD
                                    }
                                    complete::CandidateKind::Value => {
                                        lsp::CompletionItemKind::VALUE
                                    }
                                }),
                                label: c.label,
                                detail: Some(c.detail),
                                ..Default::default()
                            })
                            .collect();
                    lsp::CompletionResponse::Array(items)
                })
            }),
            req::CodeActionRequest::METHOD => self.with(r.params, |s, p: lsp::CodeActionParams| {
                s.code_actions(&p.text_document.uri, p.range)
            }),
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("no method `{}`", r.method),
            )),
        };
        match answer {
            Ok(v) => Response {
                id,
                result: Some(v),
                error: None,
            },
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// Decodes the parameters, runs `f`, encodes its answer.
    fn with<P: serde::de::DeserializeOwned, R: serde::Serialize>(
        &mut self,
        params: Value,
        f: impl FnOnce(&mut Self, P) -> R,
    ) -> Result<Value, (ErrorCode, String)> {
        let p = serde_json::from_value(params)
            .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))?;
        serde_json::to_value(f(self, p)).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    /// `f` over an open document's text; `None` (a `null` answer) for a
    /// document the editor has not opened.
    fn doc<R>(&self, uri: &lsp::Url, f: impl FnOnce(&str, &Positions<'_>) -> R) -> Option<R> {
        let text = self.open.get(uri)?.doc.text();
        Some(f(text, &Positions::new(text)))
    }

    /// The formatter's edit for the document, or for the drivers `range`
    /// touches: none if the text is formatted or has syntax errors.
    fn format(&self, uri: &lsp::Url, range: Option<lsp::Range>) -> Option<Vec<lsp::TextEdit>> {
        self.doc(uri, |text, lines| {
            let whole = 0..text.len();
            let span = match range {
                None => whole,
                Some(r) => {
                    let want = convert::span(lines, r);
                    let (spec, errors) = iommugen_dsl::parse::parse(text);
                    if errors.iter().any(Diagnostic::is_error) {
                        return Vec::new();
                    }
                    let touched: Vec<_> = spec
                        .drivers
                        .iter()
                        .filter(|d| d.span.start <= want.end && want.start <= d.span.end)
                        .collect();
                    match (touched.first(), touched.last()) {
                        (Some(a), Some(b)) => a.span.start..b.span.end,
                        _ => return Vec::new(),
                    }
                }
            };
            let Some(part) = text.get(span.clone()) else {
                return Vec::new();
            };
            let formatted = iommugen_dsl::format::format_source(part);
            if formatted.has_errors() {
                return Vec::new();
            }
            let mut new = formatted.text;
            if span.end < text.len() && new.ends_with('\n') {
                // A part of the file: what follows keeps its own line end.
                new.pop();
            }
            if new == part {
                return Vec::new();
            }
            vec![lsp::TextEdit::new(convert::range(lines, &span), new)]
        })
    }

    /// Quick fixes for the checker's diagnostics that touch `range`.
    fn code_actions(
        &mut self,
        uri: &lsp::Url,
        range: lsp::Range,
    ) -> Option<Vec<lsp::CodeActionOrCommand>> {
        if self.stale {
            // Fixes answer the text as it is now.
            self.check();
        }
        let doc = self.open.get(uri)?;
        let text = doc.doc.text();
        let lines = Positions::new(text);
        let want = convert::span(&lines, range);
        let (spec, _) = iommugen_dsl::parse::parse(text);
        let mut out = Vec::new();
        for d in &doc.diagnostics {
            let Some(at) = d.primary_span() else { continue };
            if at.start > want.end || want.start > at.end {
                continue;
            }
            for fix in actions::fixes(text, &spec, d) {
                let edits = fix
                    .edits
                    .iter()
                    .map(|(span, text)| {
                        lsp::TextEdit::new(convert::range(&lines, span), text.clone())
                    })
                    .collect();
                out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                    title: fix.title,
                    kind: Some(lsp::CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![convert::diagnostic(uri, &lines, d)]),
                    edit: Some(lsp::WorkspaceEdit {
                        changes: Some([(uri.clone(), edits)].into_iter().collect()),
                        ..Default::default()
                    }),
                    is_preferred: Some(true),
                    ..Default::default()
                }));
            }
        }
        Some(out)
    }
}

/// Applies one content change: a range in the text as it is (UTF-16
/// positions, clamped), or the whole text.
fn apply(doc: &mut Document, change: lsp::TextDocumentContentChangeEvent) {
    match change.range {
        None => *doc = Document::new(change.text),
        Some(r) => {
            let at = |p: lsp::Position| {
                position::offset_of(
                    doc.text(),
                    position::Position {
                        line: p.line,
                        column: p.character,
                    },
                )
            };
            let (a, b) = (at(r.start), at(r.end));
            doc.edit(a.min(b)..a.max(b), &change.text);
        }
    }
}

fn publish(uri: lsp::Url, diagnostics: Vec<lsp::Diagnostic>) -> Notification {
    Notification::new(
        note::PublishDiagnostics::METHOD.to_owned(),
        lsp::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        },
    )
}

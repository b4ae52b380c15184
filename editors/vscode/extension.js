// Starts `iommugen lsp` for *.iommu files. The server does all the work
// (diagnostics, formatting, symbols, hover, completion, code actions); this
// file only tells VS Code how to run it.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("iommugen").get("server.path", "iommugen");
  const run = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "iommugen",
    "iommugen",
    { run, debug: run },
    { documentSelector: [{ scheme: "file", language: "iommu" }, { scheme: "untitled", language: "iommu" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

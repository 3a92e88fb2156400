// The client side of the playbook language: starts `playbook lsp` on stdio and hands it the
// .play files and templates of the workspace. The command is `playbook.server.path` when set,
// else the workspace's .venv/bin/playbook (Scripts\playbook.exe on Windows), else `playbook`
// on the PATH.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverCommand() {
  const settings = vscode.workspace.getConfiguration('playbook');
  const configured = settings.get('server.path');
  if (configured) return configured;
  for (const folder of vscode.workspace.workspaceFolders || []) {
    for (const candidate of [['.venv', 'bin', 'playbook'], ['.venv', 'Scripts', 'playbook.exe']]) {
      const file = path.join(folder.uri.fsPath, ...candidate);
      if (fs.existsSync(file)) return file;
    }
  }
  return 'playbook';
}

async function activate(context) {
  const settings = vscode.workspace.getConfiguration('playbook');
  const run = { command: serverCommand(), args: ['lsp', ...settings.get('server.args', [])], transport: TransportKind.stdio };
  client = new LanguageClient('playbook', 'Playbook language server', { run, debug: run }, {
    documentSelector: [
      { scheme: 'file', language: 'playbook' },
      { scheme: 'file', language: 'playbook-jinja' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.play,templates/*.jinja}'),
    },
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `Playbook: cannot start \`${run.command} lsp\` (${error.message}). ` +
      'Install the project (pip install -e .) or set playbook.server.path.');
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// Tokenizes every .play file and template of the standard library (playbooks/) with the
// extension's grammars, through vscode-textmate and vscode-oniguruma as VS Code does, and fails
// on any character the grammar leaves untokenized (only the file's own scope) or marks invalid.
// Runs offline: `node --test test/` (npm test).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const textmate = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const HERE = path.resolve(__dirname, '..');
const LIBRARY = path.resolve(HERE, '..', '..', 'playbooks');
const GRAMMARS = {
  'source.playbook': path.join(HERE, 'syntaxes', 'playbook.tmLanguage.json'),
  'text.jinja.playbook': path.join(HERE, 'syntaxes', 'playbook-jinja.tmLanguage.json'),
};

function registry() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
  const onigLib = oniguruma.loadWASM(wasm).then(() => ({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (text) => new oniguruma.OnigString(text),
  }));
  return new textmate.Registry({
    onigLib,
    loadGrammar: async (scopeName) => {
      const file = GRAMMARS[scopeName];
      return file ? textmate.parseRawGrammar(fs.readFileSync(file, 'utf8'), file) : null;
    },
  });
}

function filesUnder(folder, suffix) {
  const found = [];
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.')) found.push(...filesUnder(full, suffix));
    else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(full);
  }
  return found.sort();
}

// Every problem of one file: `file:line:col: why (text)`.
function problems(grammar, file, { everyCharacter }) {
  const found = [];
  let state = textmate.INITIAL;
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  lines.forEach((line, index) => {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      const text = line.slice(token.startIndex, token.endIndex);
      const where = `${path.relative(LIBRARY, file)}:${index + 1}:${token.startIndex + 1}`;
      if (token.scopes.some((scope) => scope.startsWith('invalid'))) {
        found.push(`${where}: marked invalid (${JSON.stringify(text)}: ${token.scopes.join(' ')})`);
      } else if (everyCharacter && token.scopes.length === 1 && text.trim() !== '') {
        found.push(`${where}: not tokenized (${JSON.stringify(text)})`);
      }
    }
    state = result.ruleStack;
  });
  return found;
}

test('every .play file of the standard library is tokenized, character by character', async () => {
  const grammar = await registry().loadGrammar('source.playbook');
  const files = filesUnder(LIBRARY, '.play');
  assert.ok(files.length >= 5, `expected the standard library's .play files under ${LIBRARY}`);
  const found = files.flatMap((file) => problems(grammar, file, { everyCharacter: true }));
  assert.deepStrictEqual(found, [], `the grammar leaves these untokenized or invalid:\n${found.join('\n')}`);
});

test('every template of the standard library is tokenized, its Jinja marked as such', async () => {
  const grammar = await registry().loadGrammar('text.jinja.playbook');
  const files = filesUnder(path.join(LIBRARY, 'templates'), '.jinja');
  assert.ok(files.length >= 5, 'expected the standard library\'s templates');
  const found = files.flatMap((file) => problems(grammar, file, { everyCharacter: false }));
  assert.deepStrictEqual(found, [], `the grammar marks these invalid:\n${found.join('\n')}`);
  const first = grammar.tokenizeLine('{% block subject %}Hi {{ contact.name }}{% endblock %}', textmate.INITIAL);
  const name = first.tokens.find((token) => token.startIndex === '{% block subject %}Hi {{ '.length);
  assert.ok(name && name.scopes.includes('meta.embedded.expression.jinja.playbook'), 'a {{ }} is an expression');
});

test('a character the language does not have is marked invalid, so the checks above can fail', async () => {
  const grammar = await registry().loadGrammar('source.playbook');
  const result = grammar.tokenizeLine('    wait 3 days ~', textmate.INITIAL);
  assert.ok(result.tokens.some((token) => token.scopes.includes('invalid.illegal.character.playbook')));
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadConfigText } from '../modules.ts';
import { formatIssue } from './issues.ts';

function issuesOf(text: string, env: Record<string, string> = {}): string[] {
  const result = loadConfigText(text, 'g.yaml', '/tmp', env);
  return result.ok ? [] : result.issues.map(formatIssue);
}

describe('loading a config', () => {
  test('defaults fill what the file leaves out', () => {
    const result = loadConfigText('endpoints: []\n', 'g.yaml', '/tmp', {});
    assert.ok(result.ok);
    assert.equal(result.loaded.config.server.port, 8080);
    assert.equal(result.loaded.config.server.host, '127.0.0.1');
    assert.deepEqual(result.loaded.config.services, {});
  });

  test('${env.NAME} is replaced, ${env.NAME:-default} falls back, and a whole unquoted reference keeps its type', () => {
    const result = loadConfigText(
      'server:\n  port: ${env.PORT}\n  host: "${env.HOST:-0.0.0.0}"\nvars:\n  greeting: "hi ${env.WHO}"\n  literal: "$${env.WHO}"\n',
      'g.yaml',
      '/tmp',
      { PORT: '9999', WHO: 'there' },
    );
    assert.ok(result.ok);
    assert.equal(result.loaded.config.server.port, 9999);
    assert.equal(result.loaded.config.server.host, '0.0.0.0');
    assert.deepEqual(result.loaded.config.vars, { greeting: 'hi there', literal: '${env.WHO}' });
  });

  test('a missing environment variable is an error naming it, at its position', () => {
    assert.deepEqual(issuesOf('vars:\n  a: ${env.NOPE}\n'), [
      'g.yaml:2:6 environment variable NOPE is not set (give a default with ${env.NOPE:-value})',
    ]);
  });

  test('a YAML syntax error reports one problem, with a hint about quoting braces', () => {
    const found = issuesOf('endpoints:\n  - { method: GET, path: /items/{id} }\n');
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^g\.yaml:2:\d+ YAML syntax: .*quote strings that contain \{ \}/);
  });

  test('an unquoted {{ expression }} is an error at its place, not a silent map', () => {
    const found = issuesOf(
      'endpoints:\n  - method: GET\n    path: /a\n    flow:\n      - id: a\n        map: {{ request.path }}\n',
    );
    assert.deepEqual(found, [
      'g.yaml:6:15 a key cannot be a map or a list: quote expressions, as in "{{ request.params.id }}"',
    ]);
  });

  test('an unknown key is reported at the key, with a suggestion when one is likely', () => {
    assert.deepEqual(issuesOf('endpoints:\n  - method: GET\n    path: /a\n    steps: []\n'), [
      'g.yaml:4:5 unknown key "steps" (did you mean "flow"?)',
    ]);
  });

  test('JSON configs load with positions too', () => {
    assert.deepEqual(issuesOf('{\n  "server": {\n    "port": "x"\n  }\n}\n').length, 1);
    assert.match(issuesOf('{\n  "server": {\n    "port": "x"\n  }\n}\n')[0]!, /^g\.yaml:3:13 server\.port: /);
  });

  test('a TypeScript config exporting defineConfig() loads, inline code functions included', async () => {
    const file = fileURLToPath(new URL('../../examples/typescript/gateway.config.ts', import.meta.url));
    const result = await loadConfig(file);
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatIssue).join('\n'));
    assert.equal(typeof result.loaded.config.endpoints[0]?.flow[0]?.code, 'function');
  });
});

/**
 * `chorus validate` as a user runs it: every problem in one pass (schema and compiler together),
 * in plain words with a did-you-mean, at the right place, as text or JSON.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeConfig } from './support/gateway.ts';

const CLI = fileURLToPath(new URL('../bin/chorus.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Seven kinds of mistakes, the two first at the schema level, the others found by compiling. */
const SEVEN_MISTAKES = `server:
  requestTimout: 5s
services:
  fares:
    kind: soap
    wsdl: missing.wsdl
    url: http://127.0.0.1:9/soap
  lookup:
    kind: http
    url: http://127.0.0.1:9/
    operations:
      locate: { path: "/locate/{id}" }
  users:
    kind: htp
    url: http://127.0.0.1:9/
endpoints:
  - id: one
    method: GET
    path: /one/{id}
    flow:
      - id: a
        cal: users.get
      - id: b
        call: nope.get
      - id: c
        map: { x: "{{ steps.d.x }}" }
      - id: d
        map: { x: "{{ steps.c.x }}" }
      - id: e
        map: { x: "{{ steps.a.x + }}" }
  - id: two
    method: GET
    path: /two
    flow:
      - id: u
        call: lookup.locate
`;

describe('chorus validate, every problem at once', () => {
  test('a config with seven kinds of mistakes reports all of them in one run, top to bottom', async () => {
    const file = await writeConfig(SEVEN_MISTAKES);
    const { code, stderr } = await run(['validate', file]);
    assert.equal(code, 1);
    assert.deepEqual(stderr.trim().split('\n'), [
      `${file}:2:3 unknown key "requestTimout" (did you mean "requestTimeout"?)`,
      `${file}:6:11 the WSDL cannot be used: cannot read ${file.replace(/gateway\.yaml$/, 'missing.wsdl')} (ENOENT)`,
      `${file}:14:11 services.users.kind: unknown kind "htp" (did you mean "http"?) (kinds: http, graphql, grpc, nats, amqp, soap, xml, mock)`,
      `${file}:22:9 unknown key "cal" (did you mean "call"?)`,
      `${file}:24:15 unknown service "nope" (services: fares, lookup)`,
      `${file}:25:9 dependency cycle: c → d → c`,
      `${file}:30:34 expression "steps.a.x +": the expression ends too early: an operand or a closing bracket is missing at the end`,
      `${file}:35:9 lookup.locate needs input.params.id`,
      '8 problems found',
    ]);
  });

  test('--format json lists the same problems with line, col, path and severity', async () => {
    const file = await writeConfig(SEVEN_MISTAKES);
    const { code, stdout } = await run(['validate', file, '--format', 'json']);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as {
      valid: boolean;
      problems: { line: number; col: number; path: unknown[]; message: string; severity: string }[];
    };
    assert.equal(report.valid, false);
    assert.equal(report.problems.length, 8);
    assert.deepEqual(report.problems[0], {
      file,
      line: 2,
      col: 3,
      path: ['server', 'requestTimout'],
      message: 'unknown key "requestTimout" (did you mean "requestTimeout"?)',
      severity: 'error',
    });
    assert.ok(report.problems.every((problem) => problem.severity === 'error' && problem.line > 0));
  });

  test('a cycle is reported at a step that is in the cycle, not at the first step of the flow', async () => {
    const file = await writeConfig(`endpoints:
  - method: GET
    path: /a
    flow:
      - { id: first, map: "{{ 1 }}" }
      - { id: b, map: "{{ steps.c }}" }
      - { id: c, map: "{{ steps.b }}" }
`);
    const { stderr } = await run(['validate', file]);
    assert.match(stderr, new RegExp(`^${file}:6:9 dependency cycle: b → c → b$`, 'm'));
  });

  test('a YAML key written twice is named with a hint about it, and the rest is still checked', async () => {
    const file = await writeConfig(`server:
  port: 8080
  port: 8081
endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, map: "{{ steps.nope }}" }
`);
    const { code, stderr } = await run(['validate', file]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(`${file}:3:3 key "port" appears twice in the same map: remove or rename one of them`),
    );
    assert.doesNotMatch(stderr, /quote/);
    assert.match(stderr, /unknown step "nope"/);
  });

  test('messages are plain words, without the parsers’ own wording', async () => {
    const file = await writeConfig(`server:
  port: eighty
services:
  a: { kind: grapql, url: "http://127.0.0.1:9" }
endpoints:
  - method: FETCH
    path: /a
    flow:
      - { id: x, map: "{{ (1 + 2 }}" }
      - { id: y, map: "{{ 1 = 2 }}" }
`);
    const { stderr } = await run(['validate', file]);
    assert.doesNotMatch(stderr, /Invalid discriminator|Unexpected token|Invalid input|RPAREN|EOF/);
    assert.match(stderr, /server\.port: expected a number, got the string "eighty"/);
    assert.match(stderr, /unknown kind "grapql" \(did you mean "graphql"\?\)/);
    assert.match(stderr, /"FETCH" is not allowed here .*\(one of: GET, POST/);
    assert.match(stderr, /'\)' is missing at the end/);
    assert.match(stderr, /the character '=' is not allowed here \(compare with ==/);
  });

  test('--strict lists reads of untyped (dyn) fields as warnings and fails; without it the config is valid', async () => {
    const file = await writeConfig(`services:
  users:
    kind: http
    url: http://127.0.0.1:9
    operations:
      get: { path: "/users/{id}" }
      typed: { path: "/t/{id}", output: { type: object, properties: { name: { type: string } } } }
endpoints:
  - method: GET
    path: /users/{id}
    flow:
      - id: user
        call: users.get
        input: { params: { id: "{{ request.params.id }}" } }
      - id: typed
        call: users.typed
        input: { params: { id: "{{ request.params.id }}" } }
    response: { body: { name: "{{ steps.user.name }}", typed: "{{ steps.typed.name }}" } }
`);
    const plain = await run(['validate', file]);
    assert.equal(plain.code, 0, plain.stderr);
    const strict = await run(['validate', file, '--strict', '--format', 'json']);
    assert.equal(strict.code, 1);
    const report = JSON.parse(strict.stdout) as {
      valid: boolean;
      problems: { line: number; col: number; message: string; severity: string }[];
    };
    assert.equal(report.valid, false);
    assert.deepEqual(
      report.problems.map((problem) => [
        problem.line,
        problem.col,
        problem.severity,
        problem.message.split(':')[0],
      ]),
      [[18, 46, 'warning', 'steps.user.name']],
    );
  });
});

/**
 * `chorus record <config> <METHOD> <path>`: serves the config against its real backends, sends
 * one request, and writes the exchange as a test: each backend call's answer (in its service's
 * own terms, matched by its input), the calls made, and the response as the expectation. Secret
 * headers are never written: backend ones become { $any: true }, the request's an ${env.X}.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Document, isSeq, parseDocument } from 'yaml';
import { formatIssue, sortIssues } from '../../config/issues.ts';
import type { Connector, ConnectorResult } from '../../contracts/connector.ts';
import { compilePlan } from '../../gateway.ts';
import { loadConfig } from '../../modules.ts';
import { startGateway } from '../../server/server.ts';
import { sendRequest } from './exchange.ts';
import { answerOf, failureOf, isSecretHeader, recordedInput } from './recorded-answer.ts';

export const RECORD_HELP = `Usage: chorus record <config> <METHOD> <path> [options]

Serves <config> against its real backends, sends one request and writes what happened as a test
(docs/testing.md): every backend call's answer, the calls made, and the response as expected.

Options:
  -H, --header "name: value"   a request header (repeatable)
  --body JSON                  the request body
  --name TEXT                  the test's name (default: "METHOD path")
  --out FILE                   the test file to write or add to (default: recorded.test.yaml)
  -h, --help                   show this help

Secret headers (authorization, api keys, tokens, cookies) are not written: the request's become
\${env.NAME} references to set when the tests run, the backend calls' match any value.`;

interface Recorded {
  service: string;
  kind: string;
  operation: string;
  input: unknown;
  answer: Record<string, unknown>;
}

/** Runs the command; resolves to the exit code. */
export async function recordCommand(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    process.stderr.write(`chorus record: ${(error as Error).message}\n\n${RECORD_HELP}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${RECORD_HELP}\n`);
    return 0;
  }
  const [configFile, method, requestPath] = positionals;
  if (
    configFile === undefined ||
    method === undefined ||
    requestPath === undefined ||
    !requestPath.startsWith('/')
  ) {
    process.stderr.write(`chorus record: give <config> <METHOD> </path>\n\n${RECORD_HELP}\n`);
    return 1;
  }
  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) {
      process.stderr.write(`chorus record: a header is "name: value", got "${header}"\n`);
      return 1;
    }
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  let body: unknown;
  if (values.body !== undefined) {
    try {
      body = JSON.parse(values.body);
    } catch (error) {
      process.stderr.write(`chorus record: --body is not JSON: ${(error as Error).message}\n`);
      return 1;
    }
  }
  const request = {
    method: method.toUpperCase(),
    path: requestPath,
    headers,
    ...(body === undefined ? {} : { body }),
  };
  const recorded = await record(path.resolve(configFile), request);
  if ('issues' in recorded) return 1;
  const out = path.resolve(values.out ?? 'recorded.test.yaml');
  const envNotes = writeTest(
    out,
    path.resolve(configFile),
    values.name ?? `${request.method} ${requestPath}`,
    request,
    recorded,
  );
  process.stdout.write(
    `recorded ${recorded.calls.length} backend call${recorded.calls.length === 1 ? '' : 's'} and a ${recorded.outcome.status} answer into ${path.relative(process.cwd(), out)}\n`,
  );
  for (const note of envNotes) process.stdout.write(`${note}\n`);
  return 0;
}

function parseOptions(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      header: { type: 'string', short: 'H', multiple: true },
      body: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Request = { method: string; path: string; headers: Record<string, string>; body?: unknown };

/** Serves the config with each connector's calls recorded, and sends the request. */
async function record(configFile: string, request: Request) {
  const silent = pino({ level: 'silent' });
  const loaded = await loadConfig(configFile);
  const compiled = loaded.ok ? await compilePlan(loaded.loaded, silent) : loaded;
  if (!compiled.ok) {
    for (const issue of sortIssues(compiled.issues)) process.stderr.write(`${formatIssue(issue)}\n`);
    return { issues: compiled.issues };
  }
  const calls: Recorded[] = [];
  for (const [service, connector] of compiled.plan.connectors) recordCalls(connector, service, calls);
  const gateway = await startGateway(compiled.plan, { logger: silent, port: 0, host: '127.0.0.1' });
  try {
    const outcome = await sendRequest(gateway.url, request);
    return { outcome, calls };
  } finally {
    await gateway.close();
  }
}

/** Wraps a connector's call: the input and the answer (or the error) are kept. */
function recordCalls(connector: Connector, service: string, calls: Recorded[]): void {
  const call = connector.call.bind(connector);
  const kind = connector.kind;
  (connector as { call: Connector['call'] }).call = async (request, ctx) => {
    const entry = { service, kind, operation: request.operation, input: recordedInput(request.input) };
    try {
      const result: ConnectorResult = await call(request, ctx);
      const output = result.raw === undefined ? result.output : JSON.parse(result.raw.toString('utf8'));
      calls.push({ ...entry, answer: answerOf(kind, output, result.status) });
      return result;
    } catch (error) {
      calls.push({ ...entry, answer: failureOf(kind, error) });
      throw error;
    }
  };
}

/** Adds the test to `out` (created if need be); returns notes on the environment it reads. */
function writeTest(
  out: string,
  configFile: string,
  name: string,
  request: Request,
  recorded: { outcome: Awaited<ReturnType<typeof sendRequest>>; calls: Recorded[] },
): string[] {
  const notes: string[] = [];
  const headers: Record<string, string> = {};
  for (const [header, value] of Object.entries(request.headers)) {
    if (!isSecretHeader(header)) {
      headers[header] = value;
      continue;
    }
    const variable = `CHORUS_TEST_${header.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
    headers[header] = `\${env.${variable}}`;
    notes.push(`the request's ${header} is not written: set ${variable} when running the tests`);
  }
  const backends: Record<string, Record<string, unknown[]>> = {};
  const counts: Record<string, number> = {};
  for (const call of recorded.calls) {
    backends[call.service] ??= {};
    const operations = backends[call.service]!;
    operations[call.operation] ??= [];
    operations[call.operation]!.push({ input: call.input, ...call.answer });
    const key = `${call.service}.${call.operation}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const { status, headers: answerHeaders, body } = recorded.outcome;
  const marker = answerHeaders['chorus-partial'];
  const test = {
    name,
    request: { ...request, headers },
    backends,
    expect: {
      status,
      partial: marker === undefined ? [] : marker.split(','),
      body: volatileMatched(body),
      calls: counts,
    },
  };
  const doc = existsSync(out)
    ? parseDocument(readFileSync(out, 'utf8'))
    : new Document({ config: path.relative(path.dirname(out), configFile), tests: [] });
  if (!existsSync(out))
    doc.commentBefore = ' Recorded by chorus record; replayed by chorus test (docs/testing.md).';
  const tests = doc.get('tests');
  if (isSeq(tests)) tests.flow = false;
  doc.addIn(['tests'], doc.createNode(test, { aliasDuplicateObjects: false }));
  writeFileSync(out, doc.toString({ lineWidth: 0 }));
  return notes;
}

/** A problem's requestId differs on every run: expected as any string. */
function volatileMatched(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('requestId' in body)) return body;
  return { ...body, requestId: { $type: 'string' } };
}

/** One request of a test sent to the gateway under test, and its answer checked against what is expected. */
import { contains, differences, formatMismatch } from './match.ts';
import type { RecordedCall } from './plan-under-test.ts';
import type { Exchange, Expectation } from './test-file.ts';

/** Body differences shown per request; a wrong answer altogether would otherwise bury the first lines. */
const MAX_SHOWN = 8;

/** What the gateway answered. */
export interface ExchangeOutcome {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Parsed when JSON, else the text ('' for no body). */
  readonly body: unknown;
}

/** Sends a request to the gateway at `url` and reads its whole answer. */
export async function sendRequest(url: string, request: Exchange['request']): Promise<ExchangeOutcome> {
  const headers: Record<string, string> = { ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  const response = await fetch(new URL(request.path, url), {
    method: request.method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const answerHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    answerHeaders[name] = value;
  });
  const type = answerHeaders['content-type'] ?? '';
  let parsed: unknown = text;
  if (/[/+]json\b/.test(type) && text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      // the text is kept
    }
  }
  return { status: response.status, headers: answerHeaders, body: parsed };
}

/** The ways the outcome and the calls differ from the expectation, as lines a person reads. */
export function checkExchange(
  expect: Expectation,
  outcome: ExchangeOutcome,
  calls: RecordedCall[],
): string[] {
  const failures: string[] = [];
  if (expect.status !== undefined && expect.status !== outcome.status) {
    failures.push(`status: expected ${expect.status}, got ${outcome.status}${problemCode(outcome)}`);
  }
  for (const [name, expected] of Object.entries(expect.headers ?? {})) {
    const actual = outcome.headers[name.toLowerCase()];
    for (const mismatch of differences(expected, actual, `headers[${JSON.stringify(name)}]`)) {
      failures.push(formatMismatch(mismatch));
    }
  }
  if (expect.partial !== undefined) {
    const marker = outcome.headers['chorus-partial'];
    const actual = marker === undefined ? [] : marker.split(',').sort();
    const wanted = [...expect.partial].sort();
    if (actual.join(',') !== wanted.join(',')) {
      failures.push(`partial: expected [${wanted.join(', ')}], got [${actual.join(', ')}]`);
    }
  }
  if (expect.body !== undefined) {
    const found = differences(expect.body, outcome.body, '$');
    for (const mismatch of found.slice(0, MAX_SHOWN)) failures.push(`body ${formatMismatch(mismatch)}`);
    if (found.length > MAX_SHOWN) failures.push(`body: … and ${found.length - MAX_SHOWN} more differences`);
  }
  failures.push(...checkCalls(expect.calls ?? {}, calls));
  return failures;
}

function checkCalls(expected: NonNullable<Expectation['calls']>, calls: RecordedCall[]): string[] {
  const failures: string[] = [];
  for (const call of calls) {
    if (!call.answered) {
      failures.push(
        `${call.service}.${call.operation} was called with ${JSON.stringify(call.input)}, and no answer is declared for it`,
      );
    }
  }
  for (const [key, want] of Object.entries(expected)) {
    const made = calls.filter((call) => `${call.service}.${call.operation}` === key);
    const times = typeof want === 'number' ? want : want.times;
    const input = typeof want === 'number' ? undefined : want.input;
    const matching = input === undefined ? made : made.filter((call) => contains(input, call.input));
    if (times === undefined ? matching.length === 0 : matching.length !== times) {
      const inputs = made.map((call) => JSON.stringify(call.input)).join(', ');
      failures.push(
        `calls: expected ${key} ${times === undefined ? 'at least once' : `${times} time${times === 1 ? '' : 's'}`}${input === undefined ? '' : ` with input containing ${JSON.stringify(input)}`}, got ${matching.length}${made.length > 0 ? ` (inputs: ${inputs})` : ''}`,
      );
    }
  }
  return failures;
}

/** ` (CODE: detail)` of a problem document, so a wrong status explains itself. */
function problemCode(outcome: ExchangeOutcome): string {
  const body = outcome.body as { code?: unknown; detail?: unknown } | null;
  if (typeof body !== 'object' || body === null || typeof body.code !== 'string') return '';
  return ` (${body.code}${typeof body.detail === 'string' ? `: ${body.detail}` : ''})`;
}

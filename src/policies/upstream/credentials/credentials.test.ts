import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { json, startBackend, type TestBackend } from '../../../../test/support/backend.ts';
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import type { UpstreamHandler } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { credentialsPolicy } from './credentials.ts';
import type { BackendCredentialsConfig } from './schema.ts';

const ctx: CallContext = { requestId: 'r1', logger: pino({ level: 'silent' }) };
const call: ConnectorCall = {
  operation: 'get',
  input: {},
  headers: { 'x-request-id': 'r1' },
  signal: new AbortController().signal,
  timeoutMs: 1000,
  deadlineBound: false,
};

const backends: TestBackend[] = [];
after(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
});

function build(config: BackendCredentialsConfig, env: Record<string, string> = {}) {
  const issues: string[] = [];
  const policy = credentialsPolicy(
    'svc',
    config,
    ['services', 'svc', 'auth'],
    (_at, message) => {
      issues.push(message);
    },
    env,
  );
  const seen: ConnectorCall[] = [];
  const handler = policy?.(async (sent): Promise<ConnectorResult> => {
    seen.push(sent);
    return { output: null };
  });
  return { handler, issues, seen };
}

describe('static credentials', () => {
  test('add their header to a copy of the call headers', async () => {
    const { handler, seen } = build({ type: 'apiKey', header: 'X-Key', key: 'k1' });
    await handler!(call, ctx);
    assert.deepEqual(seen[0]!.headers, { 'x-request-id': 'r1', 'x-key': 'k1' });
    assert.deepEqual(call.headers, { 'x-request-id': 'r1' });
  });

  test('a bearer token env variable that is not set is a load issue', () => {
    const { handler, issues } = build({ type: 'bearer', tokenEnv: 'NOPE' });
    assert.equal(handler, undefined);
    assert.deepEqual(issues, ['environment variable NOPE is not set']);
  });

  test('a credential with a line break is a load issue that never repeats the secret', () => {
    const { issues } = build({ type: 'headers', headers: { 'x-secret': 'abc\r\ndef' } });
    assert.equal(issues.length, 1);
    assert.ok(!issues[0]!.includes('abc'));
  });
});

describe('oauth2 client credentials', () => {
  test('sends the client credentials as HTTP Basic or form fields', async () => {
    const tokens = await startBackend((_req, res) => json(res, 200, { access_token: 'tok', expires_in: 60 }));
    backends.push(tokens);
    const basic = build({
      type: 'oauth2',
      tokenUrl: `${tokens.url}/t`,
      clientId: 'id:1',
      clientSecret: 's',
      clientAuth: 'basic',
      scope: 'read write',
      timeout: 1000,
      refreshBefore: 1000,
    });
    await basic.handler!(call, ctx);
    assert.equal(
      tokens.calls[0]!.headers.authorization,
      `Basic ${Buffer.from('id%3A1:s').toString('base64')}`,
    );
    assert.equal(tokens.calls[0]!.body, 'grant_type=client_credentials&scope=read+write');
    assert.equal(basic.seen[0]!.headers.authorization, 'Bearer tok');
    const body = build({
      type: 'oauth2',
      tokenUrl: `${tokens.url}/t`,
      clientId: 'id',
      clientSecret: 's',
      clientAuth: 'body',
      timeout: 1000,
      refreshBefore: 1000,
    });
    await body.handler!(call, ctx);
    assert.equal(tokens.calls[1]!.body, 'grant_type=client_credentials&client_id=id&client_secret=s');
  });

  test('a 401 from the backend drops the token, so the next call fetches a new one', async () => {
    let issued = 0;
    const tokens = await startBackend((_req, res) =>
      json(res, 200, { access_token: `t${++issued}`, expires_in: 600 }),
    );
    backends.push(tokens);
    const policy = credentialsPolicy(
      'svc',
      {
        type: 'oauth2',
        tokenUrl: tokens.url,
        clientId: 'a',
        clientSecret: 'b',
        clientAuth: 'basic',
        timeout: 1000,
        refreshBefore: 1000,
      },
      [],
      () => {},
    )!;
    const seen: string[] = [];
    const handler: UpstreamHandler = policy(async (sent) => {
      seen.push(sent.headers.authorization!);
      if (seen.length === 1) {
        throw new ChorusError('CHORUS_UPSTREAM_STATUS', 'answered 401', {
          extras: { service: 'svc', operation: 'get', upstreamStatus: 401 },
        });
      }
      return { output: null };
    });
    await assert.rejects(handler(call, ctx), /401/);
    await handler(call, ctx);
    assert.deepEqual(seen, ['Bearer t1', 'Bearer t2']);
  });

  test('a token endpoint that does not answer in time fails with CHORUS_UPSTREAM_AUTH', async () => {
    const silent = await startBackend(() => {});
    backends.push(silent);
    const { handler, seen } = build({
      type: 'oauth2',
      tokenUrl: silent.url,
      clientId: 'a',
      clientSecret: 'b',
      clientAuth: 'basic',
      timeout: 50,
      refreshBefore: 1000,
    });
    const error = await handler!(call, ctx).catch((caught: unknown) => caught);
    assert.ok(error instanceof ChorusError);
    assert.equal(error.code, 'CHORUS_UPSTREAM_AUTH');
    assert.equal(error.status, 502);
    assert.equal(seen.length, 0);
  });
});

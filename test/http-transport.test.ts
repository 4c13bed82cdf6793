/**
 * The HTTP transport under every HTTP-based connector, end to end: a real gateway in front of
 * real loopback backends. soap, xml and graphql services balance over several `urls` and keep
 * answering when a host dies (host ejection), and present a client certificate (`tls`) to
 * backends that require one, as http services do.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';
import { type GraphqlBackend, startGraphqlBackend } from './support/graphql-backend.ts';
import { FIXTURES, type SoapBackend, startSoapBackend } from './support/soap-backend.ts';
import { makeTestCertificates } from './support/tls-certs.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.allSettled(closers.map((close) => close()));
});

function keep<T extends { close(): Promise<void> }>(started: T): T {
  closers.push(() => started.close());
  return started;
}

async function gateway(yaml: string): Promise<Gateway> {
  return keep(await startTestGateway(yaml));
}

async function get(gw: Gateway, route: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(gw.url + route);
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** One GET endpoint per line: [route, call, input (YAML flow map)]. */
function endpoints(...routes: [string, string, string][]): string {
  return routes
    .map(
      ([route, call, input]) => `
  - method: GET
    path: ${route}
    flow:
      - { id: r, call: ${call}, input: ${input} }
    response:
      body: "{{ steps.r }}"`,
    )
    .join('');
}

const LOAD_BALANCING = '{ strategy: round-robin, ejectAfter: 2, ejectionTime: 30s }';
const WSDL = path.join(FIXTURES, 'music.wsdl');

/** An RSS feed whose channel title names the host that answered. */
async function feed(name: string): Promise<TestBackend> {
  return startBackend((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(`<rss version="2.0"><channel><title>${name}</title></channel></rss>`);
  });
}

/**
 * Calls `route` 20 times once the dead host had the chance to be ejected; every answer must be a
 * success. Returns the statuses of the warm-up calls too (a dead host fails ejectAfter times).
 */
async function callsAfterOneHostDies(gw: Gateway, route: string): Promise<number[]> {
  const warmUp: number[] = [];
  for (let i = 0; i < 6; i++) warmUp.push((await get(gw, route)).status);
  for (let i = 0; i < 20; i++) {
    const answer = await get(gw, route);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
  return warmUp;
}

describe('load balancing over urls for soap, xml and graphql', () => {
  test('a soap service with two urls calls both, and keeps answering through the other when one is killed', async () => {
    const hosts: SoapBackend[] = [await startSoapBackend(), keep(await startSoapBackend())];
    const gw = await gateway(`
services:
  music:
    kind: soap
    wsdl: ${WSDL}
    urls: [${hosts.map((host) => `${host.url}/music`).join(', ')}]
    loadBalancing: ${LOAD_BALANCING}
endpoints:${endpoints(['/album', 'music.GetAlbum', '{ body: { albumId: "7" } }'])}
`);
    for (let i = 0; i < 4; i++) assert.equal((await get(gw, '/album')).status, 200);
    assert.deepEqual(
      hosts.map((host) => host.calls.length),
      [2, 2],
    );
    await hosts[0]!.close();
    const before = hosts[1]!.calls.length;
    await callsAfterOneHostDies(gw, '/album');
    assert.ok(hosts[1]!.calls.length - before >= 20);
  });

  test('an xml service with two urls calls both, and keeps answering through the other when one is killed', async () => {
    const hosts = [await feed('a'), keep(await feed('b'))];
    const gw = await gateway(`
services:
  news:
    kind: xml
    urls: [${hosts.map((host) => host.url).join(', ')}]
    loadBalancing: ${LOAD_BALANCING}
    operations:
      latest: { path: /rss }
endpoints:${endpoints(['/news', 'news.latest', '{}'])}
`);
    const titles = new Set<unknown>();
    for (let i = 0; i < 4; i++) {
      const answer = await get(gw, '/news');
      titles.add((answer.body as { rss: { channel: { title: string } } }).rss.channel.title);
    }
    assert.deepEqual([...titles].sort(), ['a', 'b']);
    await hosts[0]!.close();
    await callsAfterOneHostDies(gw, '/news');
  });

  test('a graphql service with two urls calls both, and keeps answering through the other when one is killed', async () => {
    const hosts: GraphqlBackend[] = [await startGraphqlBackend(), keep(await startGraphqlBackend())];
    const gw = await gateway(`
services:
  shows:
    kind: graphql
    urls: [${hosts.map((host) => host.url).join(', ')}]
    introspect: false
    loadBalancing: ${LOAD_BALANCING}
    operations:
      show: { query: "query ($id: ID!) { show(id: $id) { title } }" }
endpoints:${endpoints(['/show', 'shows.show', '{ variables: { id: "1" } }'])}
`);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual((await get(gw, '/show')).body, { show: { title: 'Cowboy Bebop' } });
    }
    assert.deepEqual(
      hosts.map((host) => host.requests.length),
      [2, 2],
    );
    await hosts[0]!.close();
    const before = hosts[1]!.requests.length;
    await callsAfterOneHostDies(gw, '/show');
    assert.ok(hosts[1]!.requests.length - before >= 20);
  });

  test('a soap host failing its health check gets no calls until it passes again', async () => {
    let sick = true;
    const healthy = keep(await startSoapBackend());
    const checked = keep(
      await startBackend((req, res) => {
        res.writeHead(req.method === 'GET' && sick ? 503 : 200).end();
      }),
    );
    const gw = await gateway(`
services:
  music:
    kind: soap
    wsdl: ${WSDL}
    urls: [${healthy.url}/music, ${checked.url}/music]
    # The music service serves its WSDL: that is its health check.
    loadBalancing: { healthCheck: { path: /wsdl/music.wsdl, interval: 50ms, timeout: 1s } }
endpoints:${endpoints(['/album', 'music.GetAlbum', '{ body: { albumId: "7" } }'])}
`);
    // The sick host answers envelopes with empty 200s: once it is out, every answer is an album.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = checked.calls.length;
    for (let i = 0; i < 6; i++) assert.equal((await get(gw, '/album')).status, 200);
    assert.equal(checked.calls.filter((call) => call.method !== 'GET').length, 0);
    sick = false;
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 6; i++) await get(gw, '/album');
    assert.ok(checked.calls.slice(before).some((call) => call.method === 'POST'));
  });
});

describe('client TLS (mTLS) for soap, xml and graphql', () => {
  const certs = makeTestCertificates();
  const withCert = `{ cert: ${certs.clientCertFile}, key: ${certs.clientKeyFile}, ca: ${certs.caFile} }`;
  const withoutCert = `{ ca: ${certs.caFile} }`;

  test('a soap service presents its client certificate to a backend that requires one; without it the call fails with CHORUS_UPSTREAM_TRANSPORT', async () => {
    const music = keep(await startSoapBackend({ tls: certs.mutualServer }));
    const gw = await gateway(`
services:
  mutual:
    kind: soap
    wsdl: ${WSDL}
    url: ${music.url}/music
    tls: ${withCert}
  anonymous:
    kind: soap
    wsdl: ${WSDL}
    url: ${music.url}/music
    tls: ${withoutCert}
endpoints:${endpoints(
      ['/mutual', 'mutual.GetAlbum', '{ body: { albumId: "7" } }'],
      ['/anonymous', 'anonymous.GetAlbum', '{ body: { albumId: "7" } }'],
    )}
`);
    const answer = await get(gw, '/mutual');
    assert.equal(answer.status, 200);
    assert.equal((answer.body as { album: { title: string } }).album.title, 'OK Computer');
    const refused = await get(gw, '/anonymous');
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, 'CHORUS_UPSTREAM_TRANSPORT');
    assert.equal(music.calls.length, 1);
  });

  test('an xml service presents its client certificate to a backend that requires one; without it the call fails with CHORUS_UPSTREAM_TRANSPORT', async () => {
    const server = createHttpsServer(certs.mutualServer, (req, res) => {
      const client = (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '';
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<who><client>${client}</client></who>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gw = await gateway(`
services:
  mutual:
    kind: xml
    url: ${url}
    tls: ${withCert}
    operations: { who: { path: /who } }
  anonymous:
    kind: xml
    url: ${url}
    tls: ${withoutCert}
    operations: { who: { path: /who } }
endpoints:${endpoints(['/mutual', 'mutual.who', '{}'], ['/anonymous', 'anonymous.who', '{}'])}
`);
    assert.deepEqual((await get(gw, '/mutual')).body, { who: { client: 'client' } });
    const refused = await get(gw, '/anonymous');
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, 'CHORUS_UPSTREAM_TRANSPORT');
  });

  test('a graphql service presents its client certificate to a backend that requires one, for introspection and calls; without it the call fails with CHORUS_UPSTREAM_TRANSPORT', async () => {
    const shows = keep(await startGraphqlBackend({ tls: certs.mutualServer }));
    const gw = await gateway(`
services:
  mutual:
    kind: graphql
    url: ${shows.url}
    tls: ${withCert}
    operations:
      show: { query: "query ($id: ID!) { show(id: $id) { title } }" }
  anonymous:
    kind: graphql
    url: ${shows.url}
    introspect: false
    tls: ${withoutCert}
    operations:
      show: { query: "query ($id: ID!) { show(id: $id) { title } }" }
endpoints:${endpoints(
      ['/mutual', 'mutual.show', '{ variables: { id: "2" } }'],
      ['/anonymous', 'anonymous.show', '{ variables: { id: "2" } }'],
    )}
`);
    // The introspection query at load went through with the certificate.
    assert.ok(shows.requests.some((request) => request.body.query?.includes('__schema')));
    assert.deepEqual((await get(gw, '/mutual')).body, { show: { title: 'The Wire' } });
    const refused = await get(gw, '/anonymous');
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, 'CHORUS_UPSTREAM_TRANSPORT');
  });
});

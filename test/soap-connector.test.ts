/**
 * The soap and xml connectors end to end: a real gateway in front of a real SOAP service described
 * by a WSDL and an RSS feed, both on loopback.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startTestGateway } from './support/gateway.ts';
import { FIXTURES, type SoapBackend, startSoapBackend } from './support/soap-backend.ts';

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>UK Archive</title>
<item><title>The Third Man</title><guid>42</guid></item></channel></rss>`;

describe('flows over a SOAP service and an XML feed', () => {
  let music: SoapBackend;
  let feed: Server;
  let gateway: Gateway;

  before(async () => {
    music = await startSoapBackend({ credentials: { username: 'chorus', password: 'pw' } });
    feed = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.end(RSS);
    });
    await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
    const feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
    gateway = await startTestGateway(`
services:
  nordic:
    kind: soap
    wsdl: ${path.join(FIXTURES, 'music.wsdl')}
    url: ${music.url}/music
    security: { usernameToken: { username: chorus, password: pw, passwordType: PasswordDigest } }
  archive:
    kind: xml
    url: ${feedUrl}
    operations:
      latest: { path: /rss, arrays: [rss.channel.item] }
endpoints:
  - method: GET
    path: /albums/{id}
    flow:
      - id: album
        call: nordic.GetAlbum
        input: { body: { albumId: "{{ request.params.id }}" } }
    response:
      body:
        title: "{{ steps.album.album.title }}"
        year: "{{ steps.album.album.year }}"
        tracks: "{{ steps.album.album.track.map(t, t.title) }}"
  - method: GET
    path: /albums/{id}/or-fallback
    flow:
      - id: album
        call: nordic.GetAlbum
        input: { body: { albumId: "{{ request.params.id }}" } }
        onError: { fallback: "error.body.fault.faultstring" }
    response:
      body: { fault: "{{ steps.album }}" }
  - method: GET
    path: /archive
    flow:
      - { id: latest, call: archive.latest }
    response:
      body: { titles: "{{ steps.latest.rss.channel.item.map(i, i.title) }}" }
`);
  });

  after(async () => {
    await gateway?.close();
    await music?.close();
    feed?.closeAllConnections();
    await new Promise((resolve) => feed?.close(resolve));
  });

  test('a SOAP operation answers typed JSON, its one-track list still a list', async () => {
    const res = await fetch(`${gateway.url}/albums/7`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { title: 'OK Computer', year: 1997, tracks: ['Airbag'] });
  });

  test('a SOAP Fault answers problem+json 502 CHORUS_UPSTREAM_PROTOCOL with faultcode and faultstring', async () => {
    const res = await fetch(`${gateway.url}/albums/404`);
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_PROTOCOL');
    assert.equal(problem.service, 'nordic');
    assert.equal(problem.operation, 'GetAlbum');
    assert.equal(problem.faultcode, 'soap:Client');
    assert.equal(problem.faultstring, 'No such album');
    // The Fault detail is for flows, not for clients.
    assert.equal(JSON.stringify(problem).includes('not found'), false);
  });

  test('an onError fallback reads the Fault from error.body', async () => {
    const res = await fetch(`${gateway.url}/albums/404/or-fallback`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { fault: string };
    assert.equal(body.fault, 'No such album');
  });

  test('an RSS feed item list is read through the xml connector', async () => {
    const res = await fetch(`${gateway.url}/archive`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { titles: ['The Third Man'] });
  });
});

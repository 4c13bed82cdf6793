/**
 * Hostile XML answers through a real gateway: entity bombs, external entities, a 50 MB body and
 * malformed XML from a SOAP service and from a plain XML service each give a clear problem+json
 * naming the service, and the gateway keeps serving.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startTestGateway } from './support/gateway.ts';
import { FIXTURES } from './support/soap-backend.ts';

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`;

const XXE = `<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`;

const FIFTY_MB = 50 * 1024 * 1024;

/** A document of each kind: SOAP envelopes or a feed, wrapped around the payload text. */
function soapDocument(prolog: string, content: string): string {
  return `${prolog}<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><m:GetAlbumResponse xmlns:m="urn:chorus:music"><m:album><m:id>${content}</m:id><m:title>t</m:title><m:artist>a</m:artist><m:year>1999</m:year><m:explicit>false</m:explicit></m:album></m:GetAlbumResponse></soap:Body></soap:Envelope>`;
}

function feedDocument(prolog: string, content: string): string {
  return `${prolog}<rss version="2.0"><channel><title>${content}</title></channel></rss>`;
}

/** Answers with the hostile payload the mode names; "good" is a well-formed answer. */
function answer(
  res: ServerResponse,
  mode: string,
  document: (prolog: string, content: string) => string,
  stats: { hugeBytesWritten: number },
): void {
  const contentType = 'text/xml; charset=utf-8';
  switch (mode) {
    case 'bomb':
      res.writeHead(200, { 'content-type': contentType });
      res.end(document(BILLION_LAUGHS, '&lol9;'));
      return;
    case 'xxe':
      res.writeHead(200, { 'content-type': contentType });
      res.end(document(XXE, '&xxe;'));
      return;
    case 'invalid':
      res.writeHead(200, { 'content-type': contentType });
      res.end(document('', '7').replace('</m:id>', '</m:title>').replace('</title>', '</name>'));
      return;
    case 'huge': {
      // Streamed without a content-length, so only counting while reading can stop it.
      res.writeHead(200, { 'content-type': contentType });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      res.write('<rss><channel><title>');
      const pump = (): void => {
        while (stats.hugeBytesWritten < FIFTY_MB && !res.destroyed) {
          stats.hugeBytesWritten += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end('</title></channel></rss>');
      };
      pump();
      return;
    }
    default:
      res.writeHead(200, { 'content-type': contentType });
      res.end(document('<?xml version="1.0"?>', '7'));
  }
}

describe('hostile XML answers through the gateway', () => {
  let hostile: Server;
  let gateway: Gateway;
  const stats = { hugeBytesWritten: 0 };

  before(async () => {
    hostile = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'POST') {
          // SOAP: the mode travels in the request's market element.
          const mode =
            /<ns1:market>(\w+)<\/ns1:market>/.exec(Buffer.concat(chunks).toString())?.[1] ?? 'good';
          answer(res, mode, soapDocument, stats);
        } else {
          answer(res, req.url?.split('/').pop() ?? 'good', feedDocument, stats);
        }
      });
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    gateway = await startTestGateway(`
server: { requestTimeout: 10s }
services:
  nordic:
    kind: soap
    wsdl: ${path.join(FIXTURES, 'music.wsdl')}
    url: ${url}/music
  archive:
    kind: xml
    url: ${url}
    operations:
      feed: { path: "/feeds/{mode}" }
endpoints:
  - method: GET
    path: /soap/{mode}
    flow:
      - id: album
        call: nordic.GetAlbum
        input: { body: { albumId: 7, market: "{{ request.params.mode }}" } }
    response:
      body: { id: "{{ steps.album.album.id }}" }
  - method: GET
    path: /xml/{mode}
    flow:
      - id: feed
        call: archive.feed
        input: { params: { mode: "{{ request.params.mode }}" } }
    response:
      body: { title: "{{ steps.feed.rss.channel.title }}" }
`);
  });

  after(async () => {
    await gateway?.close();
    hostile?.closeAllConnections();
    await new Promise((resolve) => hostile?.close(resolve));
  });

  async function problemOf(route: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${gateway.url}${route}`);
    assert.equal(res.status, 502, `${route} answered ${res.status}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    return (await res.json()) as Record<string, unknown>;
  }

  async function stillServes(): Promise<void> {
    const soap = await fetch(`${gateway.url}/soap/good`);
    assert.equal(soap.status, 200);
    assert.deepEqual(await soap.json(), { id: 7 });
    const xml = await fetch(`${gateway.url}/xml/good`);
    assert.equal(xml.status, 200);
    assert.deepEqual(await xml.json(), { title: '7' });
  }

  for (const [kind, service] of [
    ['soap', 'nordic'],
    ['xml', 'archive'],
  ] as const) {
    test(`a billion-laughs ${kind} answer is refused as CHORUS_UPSTREAM_DECODE naming ${service}, never expanded`, async () => {
      const problem = await problemOf(`/${kind}/bomb`);
      assert.equal(problem.code, 'CHORUS_UPSTREAM_DECODE');
      assert.equal(problem.service, service);
      assert.match(String(problem.detail), /DOCTYPE> declaration; DTDs and entity declarations are refused/);
      await stillServes();
    });

    test(`an XXE ${kind} answer is refused as CHORUS_UPSTREAM_DECODE and no file is read`, async () => {
      const problem = await problemOf(`/${kind}/xxe`);
      assert.equal(problem.code, 'CHORUS_UPSTREAM_DECODE');
      assert.equal(problem.service, service);
      assert.doesNotMatch(JSON.stringify(problem), /root:/);
      await stillServes();
    });

    test(`a 50 MB ${kind} answer is cut at maxResponseBytes as CHORUS_UPSTREAM_TOO_LARGE`, async () => {
      stats.hugeBytesWritten = 0;
      const problem = await problemOf(`/${kind}/huge`);
      assert.equal(problem.code, 'CHORUS_UPSTREAM_TOO_LARGE');
      assert.equal(problem.service, service);
      assert.match(String(problem.detail), /more than 10485760 bytes/);
      assert.ok(stats.hugeBytesWritten < FIFTY_MB, `the backend wrote all ${stats.hugeBytesWritten} bytes`);
      await stillServes();
    });

    test(`malformed XML from the ${kind} service is CHORUS_UPSTREAM_DECODE with the position of the error`, async () => {
      const problem = await problemOf(`/${kind}/invalid`);
      assert.equal(problem.code, 'CHORUS_UPSTREAM_DECODE');
      assert.equal(problem.service, service);
      assert.match(String(problem.detail), /malformed at line \d+, column \d+/);
      await stillServes();
    });
  }
});

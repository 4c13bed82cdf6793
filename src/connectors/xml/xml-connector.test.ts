import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { xmlServiceSchema } from './schema.ts';
import { createXmlConnector } from './xml-connector.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>UK Archive</title>
    <ttl>60</ttl>
    <item>
      <title>The Third Man</title>
      <link>https://archive.example/items/42</link>
      <dc:creator>Carol Reed</dc:creator>
      <category>film</category>
      <description><![CDATA[<p>Vienna, 1948 &amp; after</p>]]></description>
    </item>
  </channel>
</rss>`;

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Archive updates</title>
  <updated>2024-05-01T10:00:00Z</updated>
  <entry>
    <id>urn:archive:42</id>
    <title type="text">Brief Encounter</title>
    <link rel="alternate" href="https://archive.example/42"/>
    <rank>3</rank>
  </entry>
</feed>`;

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base = '';
const received: Received[] = [];
const connectors: Connector[] = [];

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/rss':
          return send(res, 200, 'application/rss+xml; charset=utf-8', RSS);
        case '/atom':
          return send(res, 200, 'application/atom+xml', ATOM);
        case '/latin1':
          return send(
            res,
            200,
            'text/xml; charset=iso-8859-1',
            Buffer.from('<r><city>Zürich</city></r>', 'latin1'),
          );
        case '/json':
          return send(res, 200, 'application/json', '{"a":1}');
        case '/missing':
          return send(
            res,
            404,
            'application/xml',
            '<error><code>404</code><message>no such item</message></error>',
          );
        case '/echo':
          return send(res, 201, 'application/xml', `<received>${body.replaceAll('<', '&lt;')}</received>`);
        default:
          return send(
            res,
            200,
            'application/xml',
            `<path id="${url.pathname.split('/').pop()}">${url.search.replaceAll('&', '&amp;')}</path>`,
          );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function create(raw: Record<string, unknown>) {
  return createXmlConnector(xmlServiceSchema.parse({ kind: 'xml', url: base, ...raw }), {
    service: 'archive',
    baseDir: '.',
    logger,
  });
}

async function connect(operations: Record<string, unknown>): Promise<Connector> {
  const created = await create({ operations });
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

async function loadIssues(operations: Record<string, unknown>): Promise<ConnectorIssue[]> {
  const created = await create({ operations });
  if (!('issues' in created)) {
    connectors.push(created);
    assert.fail('expected load-time issues');
  }
  return created.issues;
}

function callOf(operation: string, input: ConnectorCall['input'] = {}): ConnectorCall {
  return {
    operation,
    input,
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    deadlineBound: false,
  };
}

function isChorusError(code: string, check?: (error: ChorusError) => void): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ChorusError, `expected a ChorusError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check?.(error);
    return true;
  };
}

describe('xml connector feeds', () => {
  test('an RSS 2.0 feed reads as JSON, items listed in arrays always arrays, namespace prefixes removed', async () => {
    const connector = await connect({
      feed: { path: '/rss', arrays: ['rss.channel.item'], numbers: ['rss.channel.ttl'] },
    });
    const result = await connector.call(callOf('feed'), callContext);
    assert.deepEqual(result.output, {
      rss: {
        '@version': '2.0',
        channel: {
          title: 'UK Archive',
          ttl: 60,
          item: [
            {
              title: 'The Third Man',
              link: 'https://archive.example/items/42',
              creator: 'Carol Reed',
              category: 'film',
              description: '<p>Vienna, 1948 &amp; after</p>',
            },
          ],
        },
      },
    });
  });

  test('an Atom feed reads with attributes as "@" keys and "#text" beside them', async () => {
    const connector = await connect({
      updates: { path: '/atom', arrays: ['feed.entry', 'feed.entry.link'], parseValues: true },
    });
    const result = await connector.call(callOf('updates'), callContext);
    assert.deepEqual(result.output, {
      feed: {
        title: 'Archive updates',
        updated: '2024-05-01T10:00:00Z',
        entry: [
          {
            id: 'urn:archive:42',
            title: { '@type': 'text', '#text': 'Brief Encounter' },
            link: [{ '@rel': 'alternate', '@href': 'https://archive.example/42' }],
            rank: 3,
          },
        ],
      },
    });
    assert.match(String(received.at(-1)!.headers.accept), /application\/atom\+xml/);
  });

  test('a charset other than UTF-8 is decoded', async () => {
    const connector = await connect({ get: { path: '/latin1' } });
    const result = await connector.call(callOf('get'), callContext);
    assert.deepEqual(result.output, { r: { city: 'Zürich' } });
  });
});

describe('xml connector requests', () => {
  test('path params and query are filled as in the http connector', async () => {
    const connector = await connect({ item: { path: '/items/{id}', query: { full: '1' } } });
    const result = await connector.call(
      callOf('item', { params: { id: 'a b' }, query: { lang: 'en' } }),
      callContext,
    );
    assert.equal(received.at(-1)!.url, '/items/a%20b?full=1&lang=en');
    assert.deepEqual(result.output, { path: { '@id': 'a%20b', '#text': '?full=1&lang=en' } });
  });

  test('a JSON body is written as XML under the configured root, with content-type application/xml', async () => {
    const connector = await connect({ create: { method: 'POST', path: '/echo', root: 'item' } });
    const result = await connector.call(
      callOf('create', { body: { '@lang': 'en', title: 'Brief <Encounter>', year: 1945, tag: ['a', 'b'] } }),
      callContext,
    );
    const request = received.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/xml; charset=utf-8');
    assert.equal(
      request.body,
      '<?xml version="1.0" encoding="UTF-8"?><item lang="en"><title>Brief &lt;Encounter&gt;</title><year>1945</year><tag>a</tag><tag>b</tag></item>',
    );
    assert.equal(result.status, 201);
  });

  test('without root, the body is an object whose one key is the root element', async () => {
    const connector = await connect({ create: { method: 'PUT', path: '/echo' } });
    await connector.call(callOf('create', { body: { item: { id: 1 } } }), callContext);
    assert.equal(received.at(-1)!.body, '<?xml version="1.0" encoding="UTF-8"?><item><id>1</id></item>');
    await assert.rejects(
      connector.call(callOf('create', { body: { a: 1, b: 2 } }), callContext),
      isChorusError('CHORUS_INTERNAL'),
    );
  });

  test('a string body is sent as it is', async () => {
    const connector = await connect({ create: { method: 'POST', path: '/echo' } });
    await connector.call(
      callOf('create', { body: '<raw a="1"/>', headers: { 'content-type': 'text/xml' } }),
      callContext,
    );
    assert.equal(received.at(-1)!.body, '<raw a="1"/>');
    assert.equal(received.at(-1)!.headers['content-type'], 'text/xml');
  });

  test('a body key that is not an XML name is refused as invalid input', async () => {
    const connector = await connect({ create: { method: 'POST', path: '/echo', root: 'item' } });
    const before = received.length;
    await assert.rejects(
      connector.call(callOf('create', { body: { 'a><b': 1 } }), callContext),
      isChorusError('CHORUS_VALIDATION_FAILED'),
    );
    assert.equal(received.length, before);
  });
});

describe('xml connector errors', () => {
  test('a JSON answer fails with CHORUS_UPSTREAM_DECODE naming the content type', async () => {
    const connector = await connect({ get: { path: '/json' } });
    await assert.rejects(
      connector.call(callOf('get'), callContext),
      isChorusError('CHORUS_UPSTREAM_DECODE', (error) => {
        assert.equal(error.message, 'service "archive" operation "get" answered application/json, not XML');
        assert.deepEqual(error.extras, { service: 'archive', operation: 'get' });
      }),
    );
  });

  test('an error status fails with CHORUS_UPSTREAM_STATUS keeping the XML body as JSON in error.data', async () => {
    const connector = await connect({ get: { path: '/missing' } });
    await assert.rejects(
      connector.call(callOf('get'), callContext),
      isChorusError('CHORUS_UPSTREAM_STATUS', (error) => {
        assert.equal(error.extras.upstreamStatus, 404);
        assert.deepEqual((error.data as { body: unknown }).body, {
          error: { code: '404', message: 'no such item' },
        });
      }),
    );
  });

  test('a status listed in accept is a success', async () => {
    const connector = await connect({ get: { path: '/missing', accept: [404] } });
    const result = await connector.call(callOf('get'), callContext);
    assert.equal(result.status, 404);
  });
});

describe('xml connector loading', () => {
  test('invalid arrays paths and root names are load-time issues at their key', async () => {
    const issues = await loadIssues({
      get: { path: '/rss', arrays: ['rss.channel.item', 'rss..item'], root: 'not a name' },
    });
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [
        ['operations', 'get', 'arrays', 1],
        ['operations', 'get', 'root'],
      ],
    );
  });

  test('describe() lists each operation with its method, path and required params', async () => {
    const connector = await connect({
      item: { path: '/items/{id}', summary: 'One item.' },
      feed: { path: '/rss' },
    });
    assert.equal(connector.kind, 'xml');
    assert.deepEqual(connector.describe(), [
      {
        name: 'item',
        summary: 'One item.',
        requiredParams: ['id'],
        idempotent: false,
        method: 'GET',
        path: '/items/{id}',
      },
      { name: 'feed', requiredParams: [], idempotent: false, method: 'GET', path: '/rss' },
    ]);
  });
});

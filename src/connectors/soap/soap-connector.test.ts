import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { FIXTURES, type SoapBackend, startSoapBackend } from '../../../test/support/soap-backend.ts';
import { formatIssue } from '../../config/issues.ts';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { compilePlan } from '../../gateway.ts';
import { loadConfigText } from '../../modules.ts';
import { soapServiceSchema } from './schema.ts';
import { createSoapConnector } from './soap-connector.ts';

const logger = pino({ level: 'silent' });

/** A WSDL with a recursive type, an operation whose type is missing and an rpc/encoded one. */
const TREE_WSDL = `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:tree" targetNamespace="urn:tree">
  <types><xs:schema targetNamespace="urn:tree" elementFormDefault="qualified">
    <xs:complexType name="Node"><xs:sequence>
      <xs:element name="name" type="xs:string"/>
      <xs:element name="child" type="t:Node" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType>
    <xs:complexType name="Bad"><xs:sequence><xs:element name="x" type="t:Missing"/></xs:sequence></xs:complexType>
    <xs:element name="GetTree"><xs:complexType><xs:sequence><xs:element name="root" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
    <xs:element name="GetTreeResponse"><xs:complexType><xs:sequence><xs:element name="node" type="t:Node"/></xs:sequence></xs:complexType></xs:element>
    <xs:element name="Broken"><xs:complexType><xs:sequence><xs:element name="bad" type="t:Bad"/></xs:sequence></xs:complexType></xs:element>
  </xs:schema></types>
  <message name="in"><part name="p" element="t:GetTree"/></message>
  <message name="out"><part name="p" element="t:GetTreeResponse"/></message>
  <message name="broken"><part name="p" element="t:Broken"/></message>
  <message name="encoded"><part name="a" type="xs:string"/></message>
  <portType name="Tree">
    <operation name="GetTree"><input message="t:in"/><output message="t:out"/></operation>
    <operation name="Broken"><input message="t:broken"/><output message="t:out"/></operation>
    <operation name="Encoded"><input message="t:encoded"/><output message="t:encoded"/></operation>
  </portType>
  <binding name="TreeSoap" type="t:Tree">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="GetTree"><soap:operation soapAction="get"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
    <operation name="Broken"><soap:operation soapAction="broken"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
    <operation name="Encoded"><soap:operation soapAction="enc" style="rpc"/><input><soap:body use="encoded" namespace="urn:tree"/></input><output><soap:body use="encoded" namespace="urn:tree"/></output></operation>
  </binding>
  <service name="TreeService"><port name="TreePort" binding="t:TreeSoap"><soap:address location="http://127.0.0.1:9/tree"/></port></service>
</definitions>`;
const callContext = { requestId: 'req-1', logger };

const backends: SoapBackend[] = [];
const connectors: Connector[] = [];

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
  await Promise.all(backends.map((backend) => backend.close()));
});

async function backend(options: Parameters<typeof startSoapBackend>[0] = {}): Promise<SoapBackend> {
  const started = await startSoapBackend(options);
  backends.push(started);
  return started;
}

async function create(raw: Record<string, unknown>, service = 'music') {
  return createSoapConnector(soapServiceSchema.parse({ kind: 'soap', wsdl: 'music.wsdl', ...raw }), {
    service,
    baseDir: FIXTURES,
    logger,
  });
}

/** Builds a connector from raw config, through the schema so defaults apply as at load. */
async function connect(raw: Record<string, unknown>, service = 'music'): Promise<Connector> {
  const created = await create(raw, service);
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

async function loadIssues(raw: Record<string, unknown>): Promise<ConnectorIssue[]> {
  const created = await create(raw);
  if (!('issues' in created)) {
    connectors.push(created);
    assert.fail('expected load-time issues');
  }
  return created.issues;
}

function callOf(operation: string, body: unknown, overrides: Partial<ConnectorCall> = {}): ConnectorCall {
  return {
    operation,
    input: { body },
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    deadlineBound: false,
    ...overrides,
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

describe('soap connector calls', () => {
  test('a document/literal call posts an envelope in the WSDL namespaces with its SOAPAction', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    await connector.call(callOf('GetAlbum', { albumId: 7 }), callContext);
    const call = music.calls[0]!;
    assert.equal(call.headers.soapaction, '"urn:chorus:music/GetAlbum"');
    assert.equal(call.headers['content-type'], 'text/xml; charset=utf-8');
    assert.match(
      call.body,
      /^<\?xml version="1.0" encoding="UTF-8"\?><soap:Envelope xmlns:soap="http:\/\/schemas.xmlsoap.org\/soap\/envelope\/"/,
    );
    assert.match(
      call.body,
      /<soap:Body><ns1:GetAlbum><ns1:albumId>7<\/ns1:albumId><\/ns1:GetAlbum><\/soap:Body>/,
    );
    assert.match(call.body, / xmlns:ns1="urn:chorus:music"/);
  });

  test('the answer is the response element content: XSD types, nested repeats as arrays, attributes as "@" keys', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    const result = await connector.call(callOf('GetAlbum', { albumId: 7 }), callContext);
    assert.equal(result.status, 200);
    assert.deepEqual(result.output, {
      album: {
        '@catalog': 'nordic',
        id: 7,
        title: 'OK Computer',
        artist: 'Radiohead',
        year: 1997,
        explicit: false,
        price: { '@currency': 'EUR', '#text': 12.5 },
        tags: { tag: ['rock'] },
        track: [{ number: 1, title: 'Airbag', seconds: 284.5 }],
      },
    });
  });

  test('an xsi:nil element reads as null and an absent repeated element stays absent', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    const result = await connector.call(callOf('GetAlbum', { albumId: 8 }), callContext);
    const album = (result.output as { album: Record<string, unknown> }).album;
    assert.equal(album.year, null);
    assert.equal('track' in album, false);
  });

  test('input is written in XSD sequence order whatever the JSON key order, arrays as repeated elements', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    const result = await connector.call(
      callOf('SearchAlbums', { maxResults: 5, genre: ['rock', 'jazz & blues'], query: 'Kid <A>' }),
      callContext,
    );
    const output = result.output as { total: number; album: Record<string, unknown>[] };
    assert.equal(output.total, 1);
    assert.equal(output.album.length, 1);
    // The backend reports the element order it received, the query and the genres it read.
    assert.equal(output.album[0]!['@catalog'], 'query,genre,genre,maxResults');
    assert.equal(output.album[0]!.title, 'Kid <A>');
    assert.equal(output.album[0]!.artist, 'rock+jazz & blues');
    assert.equal(output.album[0]!.explicit, true);
  });

  test('an rpc/literal operation wraps unqualified parts in the operation element of the body namespace', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    const result = await connector.call(callOf('Ping', { count: 3, message: 'hello' }), callContext);
    assert.match(music.calls[0]!.body, /<ns2:Ping><message>hello<\/message><count>3<\/count><\/ns2:Ping>/);
    assert.deepEqual(result.output, { echo: 'hello x3', healthy: true });
  });

  test('SOAP 1.2 sends application/soap+xml with the action parameter and no SOAPAction header', async () => {
    const music = await backend();
    const connector = await connect({ version: '1.2', url: `${music.url}/music12` });
    const result = await connector.call(callOf('GetAlbum', { albumId: 7 }), callContext);
    const call = music.calls[0]!;
    assert.equal(
      call.headers['content-type'],
      'application/soap+xml; charset=utf-8; action="urn:chorus:music/GetAlbum"',
    );
    assert.equal(call.headers.soapaction, undefined);
    assert.match(call.body, /xmlns:soap="http:\/\/www.w3.org\/2003\/05\/soap-envelope"/);
    assert.equal((result.output as { album: { id: number } }).album.id, 7);
  });

  test('a SOAP 1.1 Fault with HTTP 500 fails with CHORUS_UPSTREAM_PROTOCOL keeping faultcode, faultstring and the detail for flows', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` }, 'nordic');
    await assert.rejects(
      connector.call(callOf('GetAlbum', { albumId: 404 }), callContext),
      isChorusError('CHORUS_UPSTREAM_PROTOCOL', (error) => {
        assert.equal(
          error.message,
          'service "nordic" operation "GetAlbum" answered a SOAP Fault: soap:Client No such album',
        );
        assert.deepEqual(error.extras, {
          service: 'nordic',
          operation: 'GetAlbum',
          faultcode: 'soap:Client',
          faultstring: 'No such album',
        });
        assert.equal(error.retryable, false);
        const data = error.data as { status: number; body: unknown };
        assert.equal(data.status, 500);
        assert.deepEqual(data.body, {
          fault: {
            faultcode: 'soap:Client',
            faultstring: 'No such album',
            detail: { MusicFault: { reason: 'not found', albumId: '404' } },
          },
        });
      }),
    );
  });

  test('a SOAP 1.2 Fault reads its Code and Reason as faultcode and faultstring', async () => {
    const music = await backend();
    const connector = await connect({ version: '1.2', url: `${music.url}/music12` });
    await assert.rejects(
      connector.call(callOf('GetAlbum', { albumId: 404 }), callContext),
      isChorusError('CHORUS_UPSTREAM_PROTOCOL', (error) => {
        assert.equal(error.extras.faultcode, 'soap:Sender');
        assert.equal(error.extras.faultstring, 'No such album');
      }),
    );
  });

  test('a WS-Security UsernameToken with PasswordText authenticates', async () => {
    const music = await backend({ credentials: { username: 'chorus', password: 's3cret&<' } });
    const connector = await connect({
      url: `${music.url}/music`,
      security: { usernameToken: { username: 'chorus', password: 's3cret&<' } },
    });
    const result = await connector.call(callOf('GetAlbum', { albumId: 7 }), callContext);
    assert.equal((result.output as { album: { id: number } }).album.id, 7);
    assert.match(music.calls[0]!.body, /soap:mustUnderstand="1"/);
    assert.match(music.calls[0]!.body, /#PasswordText">s3cret&amp;&lt;<\/wsse:Password>/);
  });

  test('a WS-Security PasswordDigest authenticates with a fresh nonce per call and never sends the password', async () => {
    const music = await backend({ credentials: { username: 'chorus', password: 's3cret' } });
    const connector = await connect({
      url: `${music.url}/music`,
      security: { usernameToken: { username: 'chorus', password: 's3cret', passwordType: 'PasswordDigest' } },
    });
    await connector.call(callOf('GetAlbum', { albumId: 7 }), callContext);
    await connector.call(callOf('GetAlbum', { albumId: 7 }), callContext);
    const nonces = music.calls.map((call) => /<wsse:Nonce[^>]*>([^<]+)</.exec(call.body)?.[1]);
    assert.notEqual(nonces[0], nonces[1]);
    assert.doesNotMatch(music.calls[0]!.body, /s3cret/);
  });

  test('wrong WS-Security credentials come back as the service Fault', async () => {
    const music = await backend({ credentials: { username: 'chorus', password: 'right' } });
    const connector = await connect({
      url: `${music.url}/music`,
      security: { usernameToken: { username: 'chorus', password: 'wrong' } },
    });
    await assert.rejects(
      connector.call(callOf('GetAlbum', { albumId: 7 }), callContext),
      isChorusError('CHORUS_UPSTREAM_PROTOCOL', (error) => {
        assert.equal(error.extras.faultcode, 'wsse:FailedAuthentication');
      }),
    );
  });

  test('a WSDL read from a URL follows its relative XSD include and import, and calls its soap:address', async () => {
    const music = await backend();
    const connector = await connect({ wsdl: `${music.url}/wsdl/music.wsdl` });
    const result = await connector.call(callOf('GetAlbum', { albumId: 7, market: 'us' }), callContext);
    const album = (result.output as { album: { price: unknown } }).album;
    assert.deepEqual(album.price, { '@currency': 'USD', '#text': 12.5 });
    assert.equal(music.calls[0]!.path, '/music');
  });

  test('a value its XSD does not allow fails with CHORUS_UPSTREAM_DECODE naming the element', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    await assert.rejects(
      connector.call(callOf('GetAlbum', { albumId: 9 }), callContext),
      isChorusError('CHORUS_UPSTREAM_DECODE', (error) => {
        assert.match(error.message, /GetAlbumResponse\.album\.id is "nine", not an integer/);
      }),
    );
  });

  test('an input key that is not an XML name is refused as invalid input before anything is sent', async () => {
    const music = await backend();
    const connector = await connect({ url: `${music.url}/music` });
    await assert.rejects(
      connector.call(callOf('GetAlbum', { albumId: 7, 'x><evil/': 1 }), callContext),
      isChorusError('CHORUS_VALIDATION_FAILED'),
    );
    assert.equal(music.calls.length, 0);
  });

  test('a backend that does not answer in time fails with CHORUS_UPSTREAM_TIMEOUT', async () => {
    const music = await backend({ delayMs: 500 });
    const connector = await connect({ url: `${music.url}/music` });
    await assert.rejects(
      connector.call(callOf('GetAlbum', { albumId: 7 }, { timeoutMs: 50 }), callContext),
      isChorusError('CHORUS_UPSTREAM_TIMEOUT'),
    );
  });

  test('an HTML error page is a status error and an HTML success is a decode error', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/down' ? 503 : 200, { 'content-type': 'text/html' });
      res.end('<html><body>maintenance</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const down = await connect({ url: `${url}/down` });
      await assert.rejects(
        down.call(callOf('GetAlbum', { albumId: 7 }), callContext),
        isChorusError('CHORUS_UPSTREAM_STATUS', (error) => assert.equal(error.extras.upstreamStatus, 503)),
      );
      const html = await connect({ url: `${url}/html` });
      await assert.rejects(
        html.call(callOf('GetAlbum', { albumId: 7 }), callContext),
        isChorusError('CHORUS_UPSTREAM_DECODE', (error) =>
          assert.match(error.message, /answered text\/html, not XML/),
        ),
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('soap connector loading', () => {
  test('describe() lists the port operations with their action, style and JSON schemas', async () => {
    const connector = await connect({ url: 'http://127.0.0.1:9/music' });
    assert.equal(connector.kind, 'soap');
    const described = connector.describe();
    assert.deepEqual(
      described.map((operation) => [operation.name, operation.soapAction, operation.style]),
      [
        ['GetAlbum', 'urn:chorus:music/GetAlbum', 'document'],
        ['SearchAlbums', 'urn:chorus:music/SearchAlbums', 'document'],
        ['Ping', 'urn:chorus:music/Ping', 'rpc'],
      ],
    );
    const getAlbum = described[0]!;
    assert.equal(getAlbum.summary, 'One album with its tracks.');
    assert.deepEqual(getAlbum.input, {
      type: 'object',
      properties: { albumId: { type: 'integer' }, market: { type: 'string' } },
    });
    const output = getAlbum.output as { properties: { album: { properties: Record<string, unknown> } } };
    assert.deepEqual(output.properties.album.properties.track, {
      type: 'array',
      items: {
        type: 'object',
        properties: { number: { type: 'integer' }, title: { type: 'string' }, seconds: { type: 'number' } },
      },
    });
  });

  test('listed operations restrict and annotate what flows may call', async () => {
    const connector = await connect({ operations: { Ping: { summary: 'Is it up?' } } });
    assert.deepEqual(
      connector.describe().map((operation) => [operation.name, operation.summary]),
      [['Ping', 'Is it up?']],
    );
  });

  test('operations it cannot call are left out, and are load errors when listed; recursive types load', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-wsdl-'));
    await writeFile(path.join(dir, 'tree.wsdl'), TREE_WSDL);
    const created = await create({ wsdl: path.join(dir, 'tree.wsdl') });
    if ('issues' in created) assert.fail(JSON.stringify(created.issues));
    connectors.push(created);
    assert.deepEqual(
      created.describe().map((operation) => operation.name),
      ['GetTree'],
    );
    const output = created.describe()[0]!.output as {
      properties: { node: { properties: Record<string, unknown> } };
    };
    assert.deepEqual(output.properties.node.properties.child, {
      type: 'array',
      items: { description: 'recursive content (see the WSDL)' },
    });
    const issues = await loadIssues({
      wsdl: path.join(dir, 'tree.wsdl'),
      operations: { Broken: {}, Encoded: {} },
    });
    assert.deepEqual(issues, [
      {
        path: ['operations', 'Broken'],
        message:
          'operation "Broken" cannot be called: type {urn:tree}Missing is not declared in the WSDL or the schemas it imports or includes',
      },
      {
        path: ['operations', 'Encoded'],
        message:
          'operation "Encoded" cannot be called: use="encoded" (SOAP encoding) is not supported; only literal',
      },
    ]);
  });

  test('a WSDL that cannot be read is an issue at wsdl', async () => {
    const issues = await loadIssues({ wsdl: 'missing.wsdl' });
    assert.deepEqual(issues[0]!.path, ['wsdl']);
    assert.match(issues[0]!.message, /cannot read .*missing\.wsdl \(ENOENT\)/);
  });

  test('an operation the WSDL does not have is an issue at that operation', async () => {
    const issues = await loadIssues({ operations: { GetAlbum: {}, GetArtist: {} } });
    assert.deepEqual(issues, [
      {
        path: ['operations', 'GetArtist'],
        message:
          'the WSDL port "MusicPort" has no operation "GetArtist" (operations: GetAlbum, SearchAlbums, Ping)',
      },
    ]);
  });

  test('a port and version that do not match is an issue naming the ports there are', async () => {
    const issues = await loadIssues({ port: 'MusicPort', version: '1.2' });
    assert.match(
      issues[0]!.message,
      /no SOAP port named "MusicPort" and bound to SOAP 1.2 \(ports: MusicPort \(SOAP 1.1\), MusicPort12 \(SOAP 1.2\)\)/,
    );
  });

  test('a WSDL with a DOCTYPE is refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-wsdl-'));
    await writeFile(
      path.join(dir, 'evil.wsdl'),
      '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><definitions>&x;</definitions>',
    );
    const issues = await loadIssues({ wsdl: path.join(dir, 'evil.wsdl') });
    assert.match(issues[0]!.message, /DOCTYPE/);
  });

  test('a WSDL read over HTTP may not import a local file', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"><wsdl:import namespace="urn:x" location="file:///etc/passwd"/></wsdl:definitions>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const issues = await loadIssues({
        wsdl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x.wsdl`,
      });
      assert.match(issues[0]!.message, /may only import http\(s\) documents/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a load error is reported at file:line:col of the config entry', async () => {
    const text = `services:
  music:
    kind: soap
    wsdl: music.wsdl
    operations:
      GetAlbum: {}
      GetArtist: { summary: not there }
  broken:
    kind: soap
    wsdl: nowhere.wsdl
endpoints:
  - method: GET
    path: /albums/{id}
    flow:
      - id: album
        call: music.GetAlbum
        input: { body: { albumId: "{{ request.params.id }}" } }
`;
    const loaded = loadConfigText(text, 'gateway.yaml', FIXTURES, {});
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.issues.map(formatIssue).join('\n'));
    const compiled = await compilePlan(loaded.loaded, logger);
    assert.equal(compiled.ok, false);
    const found = compiled.ok ? [] : compiled.issues.map(formatIssue).sort();
    assert.equal(found.length, 2);
    assert.match(
      found[0]!,
      /^gateway\.yaml:10:11 the WSDL cannot be used: cannot read .*nowhere\.wsdl \(ENOENT\)$/,
    );
    assert.match(found[1]!, /^gateway\.yaml:7:18 the WSDL port "MusicPort" has no operation "GetArtist"/);
  });
});

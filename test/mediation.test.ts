/**
 * Issue 4's point made end to end: one flow calls a SOAP service (WSDL), an XML feed, a GraphQL
 * server and a gRPC server in one request, in parallel, and merges their answers into one JSON
 * response; the flow never knows which protocol each speaks.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startTestGateway } from './support/gateway.ts';
import { type GraphqlBackend, startGraphqlBackend } from './support/graphql-backend.ts';
import { CATALOG_PROTO, type GrpcBackend, PROTO_DIR, startGrpcBackend } from './support/grpc-backend.ts';
import { FIXTURES, type SoapBackend, startSoapBackend } from './support/soap-backend.ts';

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>UK Archive</title>
<item><title>The Third Man</title><guid>42</guid></item></channel></rss>`;

describe('one flow over SOAP, XML, GraphQL and gRPC', () => {
  let music: SoapBackend;
  let anime: GraphqlBackend;
  let catalog: GrpcBackend;
  let feed: Server;
  let gateway: Gateway;

  before(async () => {
    [music, anime, catalog] = await Promise.all([
      startSoapBackend(),
      startGraphqlBackend(),
      startGrpcBackend(),
    ]);
    feed = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.end(RSS);
    });
    await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
    const feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
    gateway = await startTestGateway(`
services:
  nordic-music: { kind: soap, wsdl: ${JSON.stringify(path.join(FIXTURES, 'music.wsdl'))}, url: ${music.url}/music }
  uk-archive:
    kind: xml
    url: ${feedUrl}
    operations:
      latest: { path: /rss, arrays: [rss.channel.item] }
  anime-tv:
    kind: graphql
    url: ${anime.url}
    operations:
      show: { query: "query Show($id: ID!) { show(id: $id) { title year } }" }
  books:
    kind: grpc
    url: ${catalog.address}
    proto: ${JSON.stringify(CATALOG_PROTO)}
    includeDirs: [${JSON.stringify(PROTO_DIR)}]
    service: catalog.v1.Catalog
endpoints:
  - method: GET
    path: /everything
    flow:
      - { id: album, call: nordic-music.GetAlbum, input: { body: { albumId: "7" } } }
      - { id: archive, call: uk-archive.latest }
      - { id: show, call: anime-tv.show, input: { variables: { id: "1" } } }
      - { id: book, call: books.GetItem, input: { message: { id: "1" } } }
    response:
      body:
        music: { title: "{{ steps.album.album.title }}", tracks: "{{ size(steps.album.album.track) }}" }
        archive: "{{ steps.archive.rss.channel.item.map(i, i.title) }}"
        tv: "{{ steps.show.show }}"
        book: { title: "{{ steps.book.title }}", tags: "{{ steps.book.tags }}" }
`);
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([music?.close(), anime?.close(), catalog?.close()]);
    feed?.closeAllConnections();
    await new Promise((resolve) => feed?.close(resolve));
  });

  test('the four answers are merged into one JSON response', async () => {
    const res = await fetch(`${gateway.url}/everything`);
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, Record<string, unknown>>;
    assert.equal(typeof body.music?.title, 'string');
    assert.equal(typeof body.music?.tracks, 'number');
    assert.deepEqual(body.archive, ['The Third Man']);
    assert.deepEqual(body.tv, { title: 'Cowboy Bebop', year: 1998 });
    assert.deepEqual(body.book, { title: 'Dune', tags: ['sf', 'classic'] });
  });
});

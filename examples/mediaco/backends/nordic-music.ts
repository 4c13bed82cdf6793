/**
 * nordic-music — SOAP 1.1, document/literal, described by nordic-music.wsdl (served at /wsdl
 * too). Checks the content type and SOAPAction like a strict server, and answers unknown albums
 * with a Fault.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { ALBUMS, type Album } from './data.ts';
import { escapeXml, type Handler, readText, titleMatches } from './http.ts';

const NS = 'urn:nordic-music:catalog:v1';
const SOAP_PATH = '/soap/catalog';
const WSDL = readFileSync(new URL('./nordic-music.wsdl', import.meta.url), 'utf8');

// A demo server reading envelopes: fast-xml-parser, namespace prefixes removed, no DTD entities
// (only the five predefined ones are decoded, by decodeXmlText()).
const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  processEntities: false,
  parseTagValue: false,
});

function decodeXmlText(text: unknown): string {
  return String(text ?? '')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:nm="${NS}">` +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml; charset=utf-8',
    'content-length': Buffer.byteLength(xml),
  });
  res.end(xml);
}

function fault(res: ServerResponse, code: 'Client' | 'Server', message: string, reason: string): void {
  send(
    res,
    500,
    envelope(
      `<soap:Fault><faultcode>soap:${code}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
        `<detail><nm:CatalogFault><nm:reason>${escapeXml(reason)}</nm:reason></nm:CatalogFault></detail></soap:Fault>`,
    ),
  );
}

function albumXml(album: Album, withTracks: boolean): string {
  const tracks = withTracks
    ? album.tracks
        .map(
          (t) =>
            `<nm:track><nm:number>${t.number}</nm:number><nm:title>${escapeXml(t.title)}</nm:title><nm:seconds>${t.seconds}</nm:seconds></nm:track>`,
        )
        .join('')
    : '';
  return (
    `<nm:albumId>${album.albumId}</nm:albumId><nm:title>${escapeXml(album.title)}</nm:title>` +
    `<nm:artist>${escapeXml(album.artist)}</nm:artist><nm:year>${album.year}</nm:year>` +
    `<nm:genre>${album.genre}</nm:genre><nm:label>${escapeXml(album.label)}</nm:label>${tracks}`
  );
}

export const nordicMusicHandler: Handler = async (req, url, res) => {
  if (req.method === 'GET' && url.pathname === '/wsdl') {
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
    res.end(WSDL);
    return;
  }
  if (url.pathname !== SOAP_PATH || req.method !== 'POST') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const text = await readText(req);
  if (!(req.headers['content-type'] ?? '').startsWith('text/xml')) {
    return fault(res, 'Client', 'SOAP 1.1 expects text/xml', 'bad content type');
  }
  let parsed: Record<string, Record<string, Record<string, Record<string, string>>>>;
  try {
    parsed = parser.parse(text);
  } catch {
    return fault(res, 'Client', 'Malformed envelope', 'not XML');
  }
  const body = parsed.Envelope?.Body;
  const operation = body ? Object.keys(body)[0] : undefined;
  if (!body || !operation) return fault(res, 'Client', 'Empty Body', 'no operation');
  if (req.headers.soapaction !== `"${NS}/${operation}"`) {
    return fault(res, 'Client', `SOAPAction does not match ${operation}`, 'bad SOAPAction');
  }
  const args = body[operation] ?? {};
  if (operation === 'GetAlbum') {
    const album = ALBUMS.find((a) => String(a.albumId) === String(args.albumId));
    if (!album)
      return fault(res, 'Client', 'No such album', `album ${String(args.albumId)} is not in the catalogue`);
    return send(
      res,
      200,
      envelope(`<nm:GetAlbumResponse><nm:album>${albumXml(album, true)}</nm:album></nm:GetAlbumResponse>`),
    );
  }
  if (operation === 'SearchAlbums') {
    const max = Math.min(Number(args.maxResults ?? 25) || 25, 100);
    const hits = ALBUMS.filter((a) => titleMatches(a.title, decodeXmlText(args.titleContains)));
    const albums = hits
      .slice(0, max)
      .map((a) => `<nm:album>${albumXml(a, false)}</nm:album>`)
      .join('');
    return send(
      res,
      200,
      envelope(
        `<nm:SearchAlbumsResponse><nm:total>${hits.length}</nm:total>${albums}</nm:SearchAlbumsResponse>`,
      ),
    );
  }
  fault(res, 'Client', `Unknown operation ${operation}`, 'unknown operation');
};

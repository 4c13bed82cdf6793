/**
 * A real SOAP service on loopback for tests: node:http, no SOAP library. It serves the music WSDL
 * of src/connectors/soap/fixtures (its soap:address pointing here), reads each envelope with its
 * namespaces, checks the content type, SOAPAction and WS-Security token like a strict server
 * would, and answers GetAlbum, SearchAlbums (document/literal) and Ping (rpc/literal) in SOAP 1.1
 * on /music and SOAP 1.2 on /music12. Records every call.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseXmlElements, type XmlElement } from '../../src/xml/parse.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../../src/connectors/soap/fixtures');

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const MUSIC = 'urn:chorus:music';
const RPC = 'urn:chorus:music:rpc';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

/** One call the service received. */
export interface SoapCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The local name of the Body's element. */
  operation: string;
}

export interface SoapBackend {
  url: string;
  calls: SoapCall[];
  close(): Promise<void>;
}

export interface SoapBackendOptions {
  /** WS-Security credentials every call must carry (text or digest). */
  credentials?: { username: string; password: string };
  /** Milliseconds before answering. */
  delayMs?: number;
  /** Serve HTTPS with these options (e.g. requestCert for mTLS); default: plain HTTP. */
  tls?: HttpsOptions;
}

/** Starts the music service on 127.0.0.1 with a random port. */
export async function startSoapBackend(options: SoapBackendOptions = {}): Promise<SoapBackend> {
  const calls: SoapCall[] = [];
  let url = '';
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const route = req.url ?? '/';
      if (req.method === 'GET' && route.startsWith('/wsdl/')) {
        void serveFixture(res, route.slice('/wsdl/'.length), url);
        return;
      }
      const answer = (): void => {
        try {
          handleEnvelope(req.headers, route, body, calls, options, res);
        } catch (error) {
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end(`bad request: ${(error as Error).message}`);
        }
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  };
  const server = options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls === undefined ? 'http' : 'https';
  url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves a fixture file; the WSDL's soap:address locations point at this server. */
async function serveFixture(res: ServerResponse, file: string, url: string): Promise<void> {
  const resolved = path.resolve(FIXTURES, file);
  if (!resolved.startsWith(FIXTURES + path.sep)) {
    res.writeHead(404).end();
    return;
  }
  try {
    const text = (await readFile(resolved, 'utf8')).replaceAll('http://127.0.0.1:9', url);
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
    res.end(text);
  } catch {
    res.writeHead(404).end();
  }
}

/** Answers one envelope; returns whether it was an operation's answer (true) or a Fault (false). */
function handleEnvelope(
  headers: IncomingHttpHeaders,
  route: string,
  body: string,
  calls: SoapCall[],
  options: SoapBackendOptions,
  res: ServerResponse,
): boolean {
  const version = route === '/music12' ? '1.2' : '1.1';
  const envelope = parseXmlElements(body);
  const ns = version === '1.1' ? SOAP11 : SOAP12;
  if (envelope.ns !== ns || envelope.local !== 'Envelope') {
    return fault(res, version, 'Client', `expected a SOAP ${version} Envelope`);
  }
  const header = find(envelope, ns, 'Header');
  const operationElement = find(envelope, ns, 'Body')?.children[0];
  const operation = operationElement?.local ?? '';
  calls.push({ path: route, headers, body, operation });
  if (operationElement === undefined) return fault(res, version, 'Client', 'empty Body');

  const contentType = headers['content-type'] ?? '';
  const expectedAction = `urn:chorus:music/${operation}`;
  if (version === '1.1') {
    if (!contentType.startsWith('text/xml'))
      return fault(res, version, 'Client', `content type ${contentType}`);
    if (headers.soapaction !== `"${expectedAction}"`) {
      return fault(res, version, 'Client', `SOAPAction ${String(headers.soapaction)}`);
    }
  } else if (
    !contentType.startsWith('application/soap+xml') ||
    !contentType.includes(`action="${expectedAction}"`)
  ) {
    return fault(res, version, 'Sender', `content type ${contentType}`);
  }
  if (options.credentials !== undefined && !authenticated(header, options.credentials)) {
    return fault(res, version, 'wsse:FailedAuthentication', 'The security token could not be authenticated');
  }

  const field = (name: string, inNs = MUSIC): string | undefined => find(operationElement, inNs, name)?.text;
  if (operation === 'GetAlbum' && operationElement.ns === MUSIC) {
    const id = field('albumId');
    if (id === '404') {
      return fault(
        res,
        version,
        version === '1.1' ? 'soap:Client' : 'soap:Sender',
        'No such album',
        `<m:MusicFault xmlns:m="${MUSIC}"><m:reason>not found</m:reason><m:albumId>404</m:albumId></m:MusicFault>`,
      );
    }
    return ok(
      res,
      version,
      `<m:GetAlbumResponse xmlns:m="${MUSIC}">${album(id ?? '', field('market'))}</m:GetAlbumResponse>`,
    );
  }
  if (operation === 'SearchAlbums' && operationElement.ns === MUSIC) {
    const genres = operationElement.children
      .filter((child) => child.local === 'genre')
      .map((child) => child.text);
    const order = operationElement.children.map((child) => child.local).join(',');
    return ok(
      res,
      version,
      `<m:SearchAlbumsResponse xmlns:m="${MUSIC}"><m:total>1</m:total><m:album catalog="${escapeXml(order)}"><m:id>1</m:id><m:title>${escapeXml(field('query') ?? '')}</m:title><m:artist>${escapeXml(genres.join('+'))}</m:artist><m:year>1999</m:year><m:explicit>1</m:explicit></m:album></m:SearchAlbumsResponse>`,
    );
  }
  if (operation === 'Ping' && operationElement.ns === RPC) {
    // rpc/literal: the parts are unqualified children of the operation element.
    const message = field('message', '');
    const count = field('count', '');
    return ok(
      res,
      version,
      `<r:PingResponse xmlns:r="${RPC}"><echo>${escapeXml(`${message} x${count}`)}</echo><healthy>true</healthy></r:PingResponse>`,
    );
  }
  return fault(res, version, 'Client', `unknown operation {${operationElement.ns}}${operation}`);
}

/** Album 7 has everything; 8 has a nil year and no tracks; 9 has an id that is not an xs:int. */
function album(id: string, market: string | undefined): string {
  const year =
    id === '8'
      ? '<m:year xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
      : '<m:year>1997</m:year>';
  const rest =
    id === '8'
      ? ''
      : `<m:price currency="${market === 'us' ? 'USD' : 'EUR'}">12.50</m:price><m:tags><m:tag>rock</m:tag></m:tags><m:track><m:number>1</m:number><m:title>Airbag</m:title><m:seconds>284.5</m:seconds></m:track>`;
  return `<m:album catalog="nordic"><m:id>${id === '9' ? 'nine' : escapeXml(id)}</m:id><m:title>OK Computer</m:title><m:artist>Radiohead</m:artist>${year}<m:explicit>false</m:explicit>${rest}</m:album>`;
}

function authenticated(
  header: XmlElement | undefined,
  credentials: { username: string; password: string },
): boolean {
  const token = find(find(header, WSSE, 'Security'), WSSE, 'UsernameToken');
  if (find(token, WSSE, 'Username')?.text !== credentials.username) return false;
  const password = find(token, WSSE, 'Password');
  if (password?.attributes.Type?.endsWith('#PasswordText')) return password.text === credentials.password;
  const nonce = find(token, WSSE, 'Nonce')?.text ?? '';
  const created = find(token, WSU, 'Created')?.text ?? '';
  const digest = createHash('sha1')
    .update(Buffer.from(nonce, 'base64'))
    .update(created)
    .update(credentials.password)
    .digest('base64');
  return password?.text === digest;
}

function ok(res: ServerResponse, version: string, content: string): true {
  send(res, 200, version, content);
  return true;
}

function fault(res: ServerResponse, version: string, code: string, reason: string, detail = ''): false {
  const content =
    version === '1.1'
      ? `<soap:Fault><faultcode>${code.includes(':') ? code : `soap:${code}`}</faultcode><faultstring>${escapeXml(reason)}</faultstring>${detail === '' ? '' : `<detail>${detail}</detail>`}</soap:Fault>`
      : `<soap:Fault><soap:Code><soap:Value>${code.includes(':') ? code : `soap:${code}`}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="en">${escapeXml(reason)}</soap:Text></soap:Reason>${detail === '' ? '' : `<soap:Detail>${detail}</soap:Detail>`}</soap:Fault>`;
  send(res, 500, version, content);
  return false;
}

function send(res: ServerResponse, status: number, version: string, content: string): void {
  const ns = version === '1.1' ? SOAP11 : SOAP12;
  const wsse = content.includes('wsse:') ? ` xmlns:wsse="${WSSE}"` : '';
  const text = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}"${wsse}><soap:Body>${content}</soap:Body></soap:Envelope>`;
  res.writeHead(status, {
    'content-type': version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8',
  });
  res.end(text);
}

function find(parent: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return parent?.children.find((child) => child.ns === ns && child.local === local);
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

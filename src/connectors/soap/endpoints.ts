/**
 * Where a `soap` service's calls go: the configured `urls` (balanced over), else the configured
 * `url`, else the soap:address of the WSDL port. Every endpoint of a service shares its path and
 * query, which each call is posted to.
 */
import type { ConnectorIssue } from '../../contracts/connector.ts';
import { readServiceUrls } from '../../transports/http/open-cluster.ts';
import type { SoapServiceConfig } from './schema.ts';
import type { WsdlPort } from './wsdl.ts';

const CREDENTIALS_HINT = 'use headers or security';

/** The endpoints of the service; empty when they have problems (in `issues`). */
export function soapEndpoints(config: SoapServiceConfig, port: WsdlPort, issues: ConnectorIssue[]): URL[] {
  if (config.urls !== undefined) {
    return readServiceUrls(config, issues, { credentialsHint: CREDENTIALS_HINT, sameQuery: true });
  }
  const endpoint = endpointOf(config.url, port, issues);
  return endpoint === undefined ? [] : [endpoint];
}

/** The config key naming the index-th endpoint, for issues. */
export function endpointKey(config: SoapServiceConfig, index: number): (string | number)[] {
  if (config.urls !== undefined) return ['urls', index];
  return config.url === undefined ? ['wsdl'] : ['url'];
}

/** The endpoint: the config url, else the port's soap:address. */
function endpointOf(url: string | undefined, port: WsdlPort, issues: ConnectorIssue[]): URL | undefined {
  const address = url ?? port.address;
  const at = url === undefined ? ['wsdl'] : ['url'];
  if (address === undefined) {
    issues.push({ path: ['wsdl'], message: `the WSDL port "${port.name}" has no soap:address; set url` });
    return undefined;
  }
  let endpoint: URL;
  try {
    endpoint = new URL(address);
  } catch {
    issues.push({ path: at, message: `the endpoint "${address}" is not a valid URL` });
    return undefined;
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    issues.push({ path: at, message: `the endpoint "${address}" is not an http(s) URL; set url` });
    return undefined;
  }
  if (endpoint.username !== '' || endpoint.password !== '') {
    issues.push({ path: at, message: `credentials in the endpoint URL are not sent; ${CREDENTIALS_HINT}` });
    return undefined;
  }
  return endpoint;
}

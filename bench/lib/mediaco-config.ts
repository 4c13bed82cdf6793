/**
 * examples/mediaco/gateway.yaml as the memory benches run it from a temporary folder: every file it
 * names relative to itself (the WSDL, code modules, the portal description, output schemas by
 * $ref) made absolute, the $schema line dropped, and its rate limits raised so the load is served.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The MediaCo config's text, runnable from any folder; `limit` replaces its per-minute plan limits. */
export function mediacoBenchConfig(root: string, limit: string): string {
  const example = path.join(root, 'examples/mediaco');
  const absolute = (file: string): string => path.join(example, file);
  return readFileSync(path.join(example, 'gateway.yaml'), 'utf8')
    .replace(/^\$schema:.*$/m, '')
    .replace(/limit: \d+, window: 1m/g, limit)
    .replace(/wsdl: (\S+)/g, (_, file: string) => `wsdl: ${absolute(file)}`)
    .replace(/module: (\S+),/g, (_, file: string) => `module: ${absolute(file)},`)
    .replace(/descriptionFile: (\S+)/g, (_, file: string) => `descriptionFile: ${absolute(file)}`)
    .replace(/\$ref: "(backends\/[^"#]+)/g, (_, file: string) => `$ref: "${absolute(file)}`);
}

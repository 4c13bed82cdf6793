/**
 * The published JSON Schema is what editors need: it is the generated one (no drift), every
 * example config validates against it with 0 errors (as an editor sees the file: placeholders
 * not yet replaced), one mistake is one error, and it uses standard formats only.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { configJsonSchema } from '../modules.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

async function committedSchema(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(ROOT, 'schema/chorus.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

async function validator(): Promise<(config: unknown) => ErrorObject[]> {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(await committedSchema());
  return (config) => (validate(config) ? [] : [...(validate.errors ?? [])]);
}

/** Every YAML or JSON gateway config under examples/ (not flow tests, not backends' own documents). */
async function exampleConfigs(dir = path.join(ROOT, 'examples')): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') found.push(...(await exampleConfigs(full)));
      continue;
    }
    if (!/\.(ya?ml|json)$/.test(entry.name) || /\.(test|openapi)\.(ya?ml|json)$/.test(entry.name)) continue;
    const parsed: unknown = parse(await readFile(full, 'utf8'));
    const keys = typeof parsed === 'object' && parsed !== null ? Object.keys(parsed) : [];
    if (keys.some((key) => key === 'endpoints' || key === 'services')) found.push(full);
  }
  return found;
}

/** The YAML of "A full example" in docs/config.md (the doc says it validates as shown). */
async function docsFullExample(): Promise<string> {
  const text = await readFile(path.join(ROOT, 'docs/config.md'), 'utf8');
  const section = text.slice(text.indexOf('## A full example'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'docs/config.md has a full example');
  return block[1]!;
}

describe('the config JSON Schema', () => {
  test('schema/chorus.schema.json is the schema generated from the code (run npm run schema after a change)', async () => {
    assert.deepEqual(await committedSchema(), configJsonSchema());
  });

  test('every example config and the docs full example validate against it with 0 errors', async () => {
    const validate = await validator();
    const files = await exampleConfigs();
    assert.ok(
      files.some((file) => file.endsWith(path.join('mediaco', 'gateway.yaml'))),
      files.join(', '),
    );
    for (const file of files) {
      const errors = validate(parse(await readFile(file, 'utf8')));
      assert.deepEqual(errors, [], `${path.relative(ROOT, file)}: ${errors.length} errors`);
    }
    assert.deepEqual(validate(parse(await docsFullExample())), []);
  });

  test('${env.NAME:-default} placeholders are accepted in any scalar: numbers, booleans, patterns, enums', async () => {
    const validate = await validator();
    const errors = validate({
      server: { port: '${env.PORT:-8080}', requestTimeout: '${env.TIMEOUT:-5s}' },
      services: {
        users: {
          kind: 'http',
          url: '${env.USERS_URL:-http://127.0.0.1:9001}',
          connections: '${env.CONNECTIONS}',
          operations: { get: { method: '${env.METHOD:-GET}', path: '/users/{id}' } },
        },
      },
      endpoints: [],
    });
    assert.deepEqual(errors, []);
  });

  test('one wrong kind is one error, at the kind, naming the kinds', async () => {
    const validate = await validator();
    const errors = validate({
      services: { users: { kind: 'htp', url: 'http://127.0.0.1:9001', operations: {} } },
    });
    assert.equal(errors.length, 1, JSON.stringify(errors, null, 1));
    assert.equal(errors[0]!.instancePath, '/services/users/kind');
    assert.ok((errors[0]!.params as { allowedValues: string[] }).allowedValues.includes('http'));
  });

  test('a mistake inside a service is checked against its own kind only', async () => {
    const validate = await validator();
    const errors = validate({
      services: {
        users: { kind: 'http', url: 'http://127.0.0.1:9001', operations: {}, requestTimout: '1s' },
      },
    });
    // ajv adds an "if" summary above the one real error (editors show the real one).
    const real = errors.filter((error) => error.keyword !== 'if');
    assert.equal(real.length, 1, JSON.stringify(errors, null, 1));
    assert.deepEqual(real[0]!.params, { additionalProperty: 'requestTimout' });
    assert.ok(real[0]!.schemaPath.includes('/allOf/0/then/'), 'checked against the http schema only');
  });

  test('only standard formats are used, and no oneOf is left to multiply errors', async () => {
    const text = JSON.stringify(await committedSchema());
    const formats = new Set([...text.matchAll(/"format":"([^"]+)"/g)].map((match) => match[1]));
    for (const format of formats)
      assert.ok(
        ['uri', 'date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'regex'].includes(format!),
        format,
      );
    assert.equal(text.includes('"oneOf"'), false);
  });

  test('the main keys have examples and a markdownDescription', async () => {
    const schema = (await committedSchema()) as { properties: Record<string, Record<string, unknown>> };
    for (const key of ['server', 'services', 'endpoints', 'vars']) {
      assert.equal(typeof schema.properties[key]!.markdownDescription, 'string', key);
    }
    assert.ok(Array.isArray(schema.properties.services!.examples));
    assert.ok(Array.isArray(schema.properties.endpoints!.examples));
    const port = (schema.properties.server!.properties as Record<string, Record<string, unknown>>).port!;
    assert.deepEqual(port.examples, [8080, '${env.PORT:-8080}']);
  });
});

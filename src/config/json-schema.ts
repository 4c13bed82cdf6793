/** The config's JSON Schema, generated from the zod schema (committed as schema/chorus.schema.json). */
import { z } from 'zod';
import { configSchema } from './schema.ts';

/** The JSON Schema of the config format, for editors and external validators. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    target: 'draft-2020-12',
    io: 'input',
    // Inline code functions exist only in TypeScript configs; JSON Schema cannot say "function".
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://chorus.dev/schema/chorus.schema.json',
    title: 'Chorus gateway config',
  };
}

if (import.meta.main) {
  // `npm run schema` regenerates the committed file.
  const { writeFileSync } = await import('node:fs');
  const target = new URL('../../schema/chorus.schema.json', import.meta.url);
  writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  process.stdout.write(`wrote ${target.pathname}\n`);
}

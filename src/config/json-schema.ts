/** The config's JSON Schema, generated from the zod schema the modules assemble (see src/modules.ts). */
import { z } from 'zod';

/** The JSON Schema of a config format, for editors and external validators. */
export function toConfigJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    // Inline code functions exist only in TypeScript configs; JSON Schema cannot say "function".
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    ...generated,
    $id: 'https://chorus.dev/schema/chorus.schema.json',
    title: 'Chorus gateway config',
  };
}

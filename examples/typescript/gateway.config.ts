/**
 * A TypeScript config: typed by defineConfig(), with an inline code step and a code step from a
 * module. Start it with `npx chorus start examples/typescript/gateway.config.ts`.
 */
import { defineConfig } from '../../src/index.ts';

export default defineConfig({
  server: { port: 8090 },
  vars: { currency: 'EUR' },
  endpoints: [
    {
      method: 'GET',
      path: '/quote',
      summary: 'A price quote computed by code steps',
      input: {
        query: {
          amount: { type: 'number', required: true, minimum: 0, description: 'Net amount' },
          country: { type: 'string', enum: ['DE', 'FR', 'NL'], default: 'DE' },
        },
      },
      flow: [
        // Inline logic: the scope is the same one expressions read.
        {
          id: 'rate',
          code: (scope) => {
            const query = (scope.request as { query: { country: string } }).query;
            return { DE: 0.19, FR: 0.2, NL: 0.21 }[query.country] ?? 0.2;
          },
        },
        // Logic from a module, relative to this file; after: says what it reads, since code is opaque.
        { id: 'total', code: { module: './pricing.ts', export: 'grossAmount' }, after: ['rate'] },
      ],
      response: {
        body: {
          net: '{{ request.query.amount }}',
          vatRate: '{{ steps.rate }}',
          gross: '{{ steps.total }}',
          currency: '{{ vars.currency }}',
        },
      },
    },
  ],
});

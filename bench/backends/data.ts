/**
 * The backend payloads, generated deterministically so every target is checked against the same
 * values. Objects are compact JSON (as a real API would send) with fields a mapping keeps and
 * fields it drops.
 */

/** A record of the kind a product API returns. */
function record(index: number): Record<string, unknown> {
  const n = String(index).padStart(4, '0');
  return {
    id: `ITEM-${n}`,
    name: `Product ${n}`,
    price: Math.round((index * 7.31 + 3) * 100) / 100,
    currency: 'EUR',
    tags: ['bench', 'chorus', index % 2 === 0 ? 'even' : 'odd'],
    stock: { level: (index * 13) % 97, warehouse: 'AMS-1' },
  };
}

/** The marker every generated payload carries, checked in every response body. */
export const PAYLOAD_MARKER = 'chorus-bench-payload';

/**
 * A JSON document of about `bytes` bytes (exact when there is room for the filler): a list of
 * records, like a real listing, padded with a filler field to the size.
 */
export function payload(bytes: number): string {
  const doc: { marker: string; size: number; items: unknown[]; filler: string } = {
    marker: PAYLOAD_MARKER,
    size: bytes,
    items: [],
    filler: '',
  };
  let text = JSON.stringify(doc);
  for (let index = 1; ; index++) {
    const item = record(index);
    const grown = text.length + JSON.stringify(item).length + 1;
    if (grown > bytes - 16) break;
    doc.items.push(item);
    text = JSON.stringify(doc);
  }
  doc.filler = 'x'.repeat(Math.max(0, bytes - text.length));
  return JSON.stringify(doc);
}

/** A user of the user service; managerId makes the dependent chain follow real data. */
export function user(id: number): { id: number; name: string; email: string; managerId: number } {
  const n = String(id).padStart(2, '0');
  return { id, name: `User ${n}`, email: `user${n}@example.test`, managerId: id > 1 ? id - 1 : 20 };
}

/** Number of users the static backend serves (/users/1 .. /users/20). */
export const USER_COUNT = 20;

/** The static files every scenario may use, by URL path. */
export function commonFiles(): Record<string, string> {
  const files: Record<string, string> = {
    '/item': payload(1024),
    '/list': JSON.stringify({ ids: Array.from({ length: USER_COUNT }, (_, i) => i + 1), total: USER_COUNT }),
    '/chain/start': JSON.stringify({ next: 7, note: 'first link of the chain' }),
    '/agg/user': JSON.stringify({
      id: 'u-1815',
      name: 'Ada Lovelace',
      email: 'ada@example.test',
      address: { city: 'London', country: 'GB' },
      createdAt: '2024-01-01T00:00:00Z',
    }),
    '/agg/orders': JSON.stringify({
      customer: 'u-1815',
      orders: Array.from({ length: 5 }, (_, i) => ({
        id: `ORD-000${i + 1}`,
        total: 10 + i * 2.5,
        currency: 'EUR',
        status: i % 2 ? 'shipped' : 'open',
      })),
    }),
    '/agg/stock': JSON.stringify({ sku: 'ITEM-0001', level: 17, warehouse: 'AMS-1' }),
    '/fan/item': JSON.stringify({ ok: true, value: 'fan-out-leaf' }),
  };
  for (let id = 1; id <= USER_COUNT; id++) files[`/users/${id}`] = JSON.stringify(user(id));
  return files;
}

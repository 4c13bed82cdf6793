/**
 * A real gRPC server on loopback for tests (@grpc/grpc-js), serving catalog.v1.Catalog from the
 * connector's fixture protos. Item ids pick behaviours: "missing" (NOT_FOUND), "slow" (answers
 * after 2 s unless cancelled), "big" (a large title), "down" (UNAVAILABLE), "garbage" (bytes that
 * do not decode as an Item), "echo" (the request metadata and deadline, in labels).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';

/** Directory of the fixture .proto files. */
export const PROTO_DIR = fileURLToPath(new URL('../../src/connectors/grpc/fixtures/', import.meta.url));
export const CATALOG_PROTO = path.join(PROTO_DIR, 'catalog.proto');

/** A running gRPC test server. */
export interface GrpcBackend {
  /** host:port */
  address: string;
  /** Calls the server received, by method, with their metadata. */
  calls: { method: string; request: Record<string, unknown>; metadata: Record<string, unknown> }[];
  /** Calls the client cancelled or let expire before the answer. */
  cancelled: number;
  close(): Promise<void>;
}

/** A complete Item, with a value in each kind of field. */
export const FULL_ITEM = {
  id: '1',
  title: 'Dune',
  views: '12345678901234567',
  price: { currency: 'EUR', units: '1999' },
  updated_at: { seconds: '1700000000', nanos: 5 },
  kind: 'BOOK',
  tags: ['sf', 'classic'],
  labels: { shelf: 'a3' },
  isbn: '978-0441172719',
  thumbnail: Buffer.from('png').toString('base64'),
};

const RAW = Symbol('raw bytes');

/** Starts the server on 127.0.0.1 with a random port; `credentials` for TLS (default plaintext). */
export async function startGrpcBackend(credentials?: ServerCredentials): Promise<GrpcBackend> {
  const definition = loadSync(CATALOG_PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    bytes: String,
    defaults: true,
    oneofs: true,
  });
  const catalog = definition['catalog.v1.Catalog'] as ServiceDefinition;
  // GetItem may answer raw bytes, to send what no Item decodes from.
  const getItem = catalog.GetItem!;
  const service: ServiceDefinition = {
    ...catalog,
    GetItem: {
      ...getItem,
      responseSerialize: (value: object) =>
        RAW in value ? (value as { [RAW]: Buffer })[RAW] : getItem.responseSerialize(value),
    },
  };
  const backend: GrpcBackend = { address: '', calls: [], cancelled: 0, close: async () => {} };
  const record = (method: string, call: ServerUnaryCall<Record<string, unknown>, unknown>): void => {
    backend.calls.push({ method, request: call.request, metadata: call.metadata.getMap() });
    call.on('cancelled', () => backend.cancelled++);
  };
  const implementation: UntypedServiceImplementation = {
    GetItem: (call: ServerUnaryCall<{ id: string }, unknown>, callback: sendUnaryData<unknown>) => {
      record('GetItem', call as ServerUnaryCall<Record<string, unknown>, unknown>);
      const id = call.request.id;
      switch (id) {
        case 'missing': {
          const trailers = new Metadata();
          trailers.set('x-reason', 'gone');
          return callback({
            code: status.NOT_FOUND,
            details: `item ${id} does not exist`,
            metadata: trailers,
          });
        }
        case 'down':
          return callback({ code: status.UNAVAILABLE, details: 'the shard is restarting' });
        case 'slow': {
          const timer = setTimeout(() => callback(null, { ...FULL_ITEM, id }), 2_000);
          call.on('cancelled', () => clearTimeout(timer));
          return;
        }
        case 'big':
          return callback(null, { id, title: 'x'.repeat(10_000) });
        case 'garbage':
          return callback(null, { [RAW]: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]) });
        case 'echo': {
          const labels: Record<string, string> = {};
          for (const [key, value] of Object.entries(call.metadata.getMap())) labels[key] = String(value);
          const deadline = call.getDeadline();
          labels['deadline-ms'] = String(Number(deadline) - Date.now());
          const headers = new Metadata();
          headers.set('x-served-by', 'catalog-1');
          call.sendMetadata(headers);
          const trailers = new Metadata();
          trailers.set('x-cost', '3');
          return callback(null, { id, labels }, trailers);
        }
        default:
          return callback(null, { ...FULL_ITEM, id });
      }
    },
    ListItems: (call: ServerUnaryCall<{ kind: string }, unknown>, callback: sendUnaryData<unknown>) => {
      record('ListItems', call as ServerUnaryCall<Record<string, unknown>, unknown>);
      callback(null, { items: call.request.kind === 'BOOK' ? [FULL_ITEM] : [] });
    },
    WatchItems: () => {},
  };
  const server = new Server();
  server.addService(service, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials ?? ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  backend.address = `127.0.0.1:${port}`;
  backend.close = () =>
    new Promise<void>((resolve) => {
      server.tryShutdown(() => resolve());
      // Calls still open (a slow answer) would hold tryShutdown; forceShutdown ends them.
      setTimeout(() => server.forceShutdown(), 100).unref();
    });
  return backend;
}

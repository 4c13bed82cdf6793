/**
 * A real GraphQL server on loopback for tests: node:http plus the `graphql` reference
 * implementation (parse, validate, execute), no framework. Records every request it gets.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  buildSchema,
  type DocumentNode,
  execute,
  type GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';

/** The schema the test server serves: shows of a TV catalogue, with fields that misbehave on purpose. */
export const SHOWS_SDL = `
  enum Genre { ANIME DRAMA }
  type Episode { number: Int!, title: String }
  type Show { id: ID!, title: String!, year: Int, genre: Genre, episodes: [Episode!] }
  type Rating { id: ID!, score: Int! }
  input RatingInput { score: Int!, comment: String }
  type Query {
    show(id: ID!): Show
    shows(limit: Int = 10, genre: Genre): [Show!]!
    mustWork: String!
    slow(ms: Int!): String
    big(size: Int!): String
  }
  type Mutation { rate(id: ID!, rating: RatingInput!): Rating! }
`;

const SHOWS = [
  {
    id: '1',
    title: 'Cowboy Bebop',
    year: 1998,
    genre: 'ANIME',
    episodes: [{ number: 1, title: 'Asteroid Blues' }],
  },
  { id: '2', title: 'The Wire', year: 2002, genre: 'DRAMA', episodes: [] },
];

const rootValue = {
  show: ({ id }: { id: string }) => {
    if (id === '404') throw new Error(`show ${id} not found`);
    return SHOWS.find((show) => show.id === id) ?? null;
  },
  shows: ({ limit, genre }: { limit: number; genre?: string }) =>
    SHOWS.filter((show) => genre === undefined || show.genre === genre).slice(0, limit),
  mustWork: () => {
    throw new Error('the storage is down');
  },
  slow: ({ ms }: { ms: number }) => new Promise((resolve) => setTimeout(resolve, ms, 'done')),
  big: ({ size }: { size: number }) => 'x'.repeat(size),
  rate: ({ id, rating }: { id: string; rating: { score: number } }) => ({ id, score: rating.score }),
};

/** A request the server received. */
export interface GraphqlRequest {
  headers: IncomingHttpHeaders;
  body: { query?: string; operationName?: string; variables?: Record<string, unknown> };
}

/** A running GraphQL test server. */
export interface GraphqlBackend {
  /** The endpoint, e.g. http://127.0.0.1:1234/graphql. */
  url: string;
  requests: GraphqlRequest[];
  close(): Promise<void>;
}

export interface GraphqlBackendOptions {
  /** Refuse introspection queries, as production servers often do (default: allowed). */
  introspection?: boolean;
  /** Answers some requests itself (status, raw body) instead of executing them; undefined: execute. */
  override?: (request: GraphqlRequest, res: ServerResponse) => boolean;
  /** Serve HTTPS with these options (e.g. requestCert for mTLS); default: plain HTTP. */
  tls?: HttpsOptions;
}

/** Starts the GraphQL server on 127.0.0.1, POST /graphql. */
export async function startGraphqlBackend(options: GraphqlBackendOptions = {}): Promise<GraphqlBackend> {
  const schema: GraphQLSchema = buildSchema(SHOWS_SDL);
  const rules =
    options.introspection === false ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  const requests: GraphqlRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: GraphqlRequest['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphqlRequest['body'];
      } catch {
        return send(res, 400, { errors: [{ message: 'the body is not JSON' }] });
      }
      const request = { headers: req.headers, body };
      requests.push(request);
      if (req.url !== '/graphql' || req.method !== 'POST') return send(res, 404, { error: 'not here' });
      if (options.override?.(request, res) === true) return;
      let document: DocumentNode;
      try {
        document = parse(body.query ?? '');
      } catch (error) {
        return send(res, 400, { errors: [{ message: (error as GraphQLError).message }] });
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return send(res, 400, { errors: errors.map((error) => error.toJSON()) });
      Promise.resolve(
        execute({
          schema,
          document,
          rootValue,
          variableValues: body.variables ?? null,
          operationName: body.operationName ?? null,
        }),
      ).then(
        (result) => send(res, 200, result),
        (error: unknown) => send(res, 500, { errors: [{ message: String(error) }] }),
      );
    });
  };
  const server = options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/graphql`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers a GraphQL-over-HTTP JSON body. */
export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

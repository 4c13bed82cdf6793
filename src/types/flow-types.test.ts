/**
 * Types through a flow: a field that the endpoint's input schema or an operation's output type
 * (from a WSDL, a .proto, a GraphQL schema) does not have is a load error at its line and column,
 * with a did-you-mean; where a type is unknown nothing is claimed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSchema, graphqlSync } from 'graphql';
import { pino } from 'pino';
import { formatIssue } from '../config/issues.ts';
import { compilePlan } from '../gateway.ts';
import { loadConfigText, openApiDocument } from '../modules.ts';

const logger = pino({ level: 'silent' });

const FARES_WSDL = `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:f="urn:fares" xmlns:tns="urn:fares:wsdl" targetNamespace="urn:fares:wsdl">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:fares" elementFormDefault="qualified">
      <xsd:element name="GetFare"><xsd:complexType><xsd:sequence>
        <xsd:element name="route" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="GetFareResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="amount" type="xsd:decimal"/>
        <xsd:element name="currency" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="GetFareRequest"><wsdl:part name="parameters" element="f:GetFare"/></wsdl:message>
  <wsdl:message name="GetFareResponse"><wsdl:part name="parameters" element="f:GetFareResponse"/></wsdl:message>
  <wsdl:portType name="Fares">
    <wsdl:operation name="GetFare"><wsdl:input message="tns:GetFareRequest"/><wsdl:output message="tns:GetFareResponse"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="FaresSoap" type="tns:Fares">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="GetFare"><soap:operation soapAction="urn:fares/GetFare"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="FaresService"><wsdl:port name="FaresPort" binding="tns:FaresSoap">
    <soap:address location="http://127.0.0.1:9/fares"/></wsdl:port></wsdl:service>
</wsdl:definitions>
`;

const SEATS_PROTO = `syntax = "proto3";
package seats.v1;
service Seats { rpc GetMap (GetMapRequest) returns (SeatMap); }
message GetMapRequest { string flight = 1; }
message SeatMap { string flight = 1; repeated Row rows = 2; }
message Row { int32 number = 1; repeated string free = 2; }
`;

const MEMBERS_SDL = `
  type Member { id: ID!, name: String!, tier: String }
  type Query { member(id: ID!): Member }
`;

let dir: string;
let graphql: Server;
let graphqlUrl: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chorus-types-'));
  await writeFile(path.join(dir, 'fares.wsdl'), FARES_WSDL);
  await writeFile(path.join(dir, 'seats.proto'), SEATS_PROTO);
  // A real GraphQL server (the reference implementation) answering the load-time introspection.
  const schema = buildSchema(MEMBERS_SDL);
  graphql = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        query: string;
        variables?: Record<string, unknown>;
      };
      const result = graphqlSync({ schema, source: body.query, variableValues: body.variables ?? null });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => graphql.listen(0, '127.0.0.1', resolve));
  graphqlUrl = `http://127.0.0.1:${(graphql.address() as AddressInfo).port}/graphql`;
});

after(() => {
  graphql.close();
});

function services(): string {
  return `services:
  fares:
    kind: soap
    wsdl: fares.wsdl
  seats:
    kind: grpc
    url: 127.0.0.1:9
    proto: seats.proto
    service: seats.v1.Seats
  members:
    kind: graphql
    url: ${graphqlUrl}
    operations:
      member:
        query: "query Member($id: ID!) { member(id: $id) { id name tier } }"
  lookup:
    kind: http
    url: http://127.0.0.1:9
    operations:
      locate: { path: "/locate/{id}" }
`;
}

async function problems(endpoints: string): Promise<string[]> {
  const loaded = loadConfigText(`${services()}${endpoints}`, 'gateway.yaml', dir, {});
  if (!loaded.ok) return loaded.issues.map(formatIssue);
  const compiled = await compilePlan(loaded.loaded, logger);
  if (compiled.ok) {
    await compiled.plan.close();
    return [];
  }
  return compiled.issues.map(formatIssue);
}

// services() is 20 lines: endpoints start at line 21.
const FLOW = `endpoints:
  - method: GET
    path: /trips/{id}
    input:
      query: { flight: { type: string } }
    flow:
      - id: fare
        call: fares.GetFare
        input: { body: { route: "{{ request.params.id }}" } }
      - id: seats
        call: seats.GetMap
        input: { message: { flight: "{{ request.query.flight }}" } }
      - id: member
        call: members.member
        input: { variables: { id: "{{ request.params.id }}" } }
`;

describe('types through a flow', () => {
  test('reads that the types allow compile without problems', async () => {
    assert.deepEqual(
      await problems(
        `${FLOW}    response:
      body:
        price: "{{ steps.fare.amount }} {{ steps.fare.currency }}"
        rows: "{{ steps.seats.rows.map(r, r.number) }}"
        firstFree: "{{ steps.seats.rows[0].free }}"
        name: "{{ steps.member.member.name }}"
        method: "{{ request.method }}"
        unknownType: "{{ steps.where.anything.at.all }}"
`.replace(
          '      - id: fare',
          '      - id: where\n        call: lookup.locate\n        input: { params: { id: "{{ request.params.id }}" } }\n      - id: fare',
        ),
      ),
      [],
    );
  });

  test('request.id is a load error at its line and column, pointing at the path parameter', async () => {
    assert.deepEqual(await problems(`${FLOW}    response: { body: { x: "{{ request.id }}" } }\n`), [
      'gateway.yaml:36:40 request has no field "id" (did you mean "request.params.id"?)',
    ]);
  });

  test('a field of request that is no parameter either lists the fields request has', async () => {
    assert.deepEqual(await problems(`${FLOW}    response: { body: { x: "{{ request.foo }}" } }\n`), [
      'gateway.yaml:36:40 request has no field "foo" (fields: method, path, params, query, headers, body, consumer, requestId, clientIp)',
    ]);
  });

  test('request.id where the endpoint has no id parameter points at request.requestId', async () => {
    const found = await problems(
      'endpoints:\n  - method: GET\n    path: /me\n    response: { body: { x: "{{ request.id }}" } }\n',
    );
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /^gateway\.yaml:24:40 request has no field "id" \(did you mean "request\.requestId"\?\)$/,
    );
  });

  test('request.param.id is a load error with a did-you-mean', async () => {
    assert.deepEqual(await problems(`${FLOW}    response: { body: { x: "{{ request.param.id }}" } }\n`), [
      'gateway.yaml:36:40 request has no field "param" (did you mean "params"?)',
    ]);
  });

  test('a field a SOAP output does not have (from the XSD) is a load error with a did-you-mean', async () => {
    assert.deepEqual(await problems(`${FLOW}    response: { body: { x: "{{ steps.fare.amont }}" } }\n`), [
      'gateway.yaml:36:43 steps.fare has no field "amont" (did you mean "amount"?)',
    ]);
  });

  test('a field a gRPC output does not have (from the .proto) is a load error with a did-you-mean', async () => {
    assert.deepEqual(await problems(`${FLOW}    response: { body: { x: "{{ steps.seats.rowz }}" } }\n`), [
      'gateway.yaml:36:44 steps.seats has no field "rowz" (did you mean "rows"?)',
    ]);
  });

  test('a field a GraphQL selection does not have (from the schema) is a load error with a did-you-mean', async () => {
    assert.deepEqual(
      await problems(`${FLOW}    response: { body: { x: "{{ steps.member.member.nmae }}" } }\n`),
      ['gateway.yaml:36:52 steps.member.member has no field "nmae" (did you mean "name"?)'],
    );
  });

  test('items of a list are typed: under forEach, item has the list element type', async () => {
    assert.deepEqual(
      await problems(
        `${FLOW}      - id: free
        forEach: "{{ steps.seats.rows }}"
        map: { row: "{{ item.nubmer }}" }
`.replace('forEach: "{{ steps.seats.rows }}"', 'forEach: steps.seats.rows'),
      ),
      ['gateway.yaml:38:30 item has no field "nubmer" (did you mean "number"?)'],
    );
  });

  test('a field read on a list says to read an item', async () => {
    const found = await problems(`${FLOW}    response: { body: { x: "{{ steps.seats.rows.number }}" } }\n`);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /steps\.seats\.rows is a list: it has no field "number"/);
  });

  test('vars are typed by their values, and a map step by its template', async () => {
    const found = await problems(`vars:\n  limits: { maxSeats: 4 }\n${FLOW}      - id: card
        map: { seats: "{{ vars.limits.maxSeat }}", total: 1 }
    response: { body: { x: "{{ steps.card.totl }}" } }
`);
    assert.deepEqual(
      found.map((line) => line.replace(/^gateway\.yaml:\d+:\d+ /, '')),
      [
        'vars.limits has no field "maxSeat" (did you mean "maxSeats"?)',
        'steps.card has no field "totl" (did you mean "total"?)',
      ],
    );
  });

  test('where a type is unknown (an HTTP operation without an output schema) nothing is claimed', async () => {
    assert.deepEqual(
      await problems(`endpoints:
  - method: GET
    path: /a/{id}
    flow:
      - id: where
        call: lookup.locate
        input: { params: { id: "{{ request.params.id }}" } }
    response: { body: { x: "{{ steps.where.whatever.deep }}", h: "{{ request.headers.anything }}" } }
`),
      [],
    );
  });
});

describe('declared output schemas of HTTP operations', () => {
  test('an inline output schema and a $ref into the backend OpenAPI document both type the step', async () => {
    await writeFile(
      path.join(dir, 'films.openapi.yaml'),
      `openapi: 3.1.0
info: { title: films, version: "1" }
paths: {}
components:
  schemas:
    Film:
      type: object
      properties:
        title: { type: string }
        director: { $ref: "#/components/schemas/Person" }
    Person:
      type: object
      properties: { name: { type: string } }
`,
    );
    const text = `services:
  films:
    kind: http
    url: http://127.0.0.1:9
    operations:
      film:
        path: "/films/{id}"
        output: { $ref: "films.openapi.yaml#/components/schemas/Film" }
      count:
        path: /count
        output: { type: object, properties: { total: { type: integer } } }
endpoints:
  - method: GET
    path: /films/{id}
    flow:
      - id: film
        call: films.film
        input: { params: { id: "{{ request.params.id }}" } }
      - id: count
        call: films.count
    response:
      body:
        by: "{{ steps.film.director.nmae }}"
        total: "{{ steps.count.totl }}"
`;
    const loaded = loadConfigText(text, 'gateway.yaml', dir, {});
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, logger);
    assert.equal(compiled.ok, false);
    assert.deepEqual(!compiled.ok && compiled.issues.map(formatIssue), [
      'gateway.yaml:23:37 steps.film.director has no field "nmae" (did you mean "name"?)',
      'gateway.yaml:24:32 steps.count has no field "totl" (did you mean "total"?)',
    ]);
  });

  test('an output $ref to a file that is not there is a load error at the $ref', async () => {
    const loaded = loadConfigText(
      `services:
  films:
    kind: http
    url: http://127.0.0.1:9
    operations:
      film: { path: /f, output: { $ref: "nowhere.yaml#/components/schemas/Film" } }
`,
      'gateway.yaml',
      dir,
      {},
    );
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, logger);
    assert.equal(compiled.ok, false);
    assert.match(
      !compiled.ok ? formatIssue(compiled.issues[0]!) : '',
      /^gateway\.yaml:6:\d+ the output schema cannot be read: no such file nowhere\.yaml/,
    );
  });
});

describe('inferred response schemas', () => {
  async function responsesOf(
    endpoints: string,
  ): Promise<Record<string, { content?: Record<string, { schema: unknown; example?: unknown }> }>> {
    const loaded = loadConfigText(`${services()}${endpoints}`, 'gateway.yaml', dir, {});
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, logger);
    assert.ok(compiled.ok, compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n'));
    await compiled.plan.close();
    const doc = openApiDocument(compiled.plan.config) as unknown as {
      paths: Record<string, Record<string, { responses: never }>>;
    };
    return Object.values(Object.values(doc.paths)[0]!)[0]!.responses;
  }

  test('a passthrough answer gets the operation output type (here from the .proto), with an example', async () => {
    const responses = await responsesOf(`endpoints:
  - method: GET
    path: /seats/{id}
    flow:
      - id: seats
        call: seats.GetMap
        input: { message: { flight: "{{ request.params.id }}" } }
`);
    const media = responses['200']!.content!['application/json']!;
    assert.deepEqual(media.schema, {
      type: 'object',
      title: 'seats.v1.SeatMap',
      properties: {
        flight: { type: 'string' },
        rows: {
          type: 'array',
          items: {
            type: 'object',
            title: 'seats.v1.Row',
            properties: { number: { type: 'integer' }, free: { type: 'array', items: { type: 'string' } } },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    });
    assert.deepEqual(media.example, { flight: 'string', rows: [{ number: 0, free: ['string'] }] });
  });

  test('a template is typed key by key; a step that may not run is nullable', async () => {
    const responses = await responsesOf(`endpoints:
  - method: GET
    path: /fares/{id}
    flow:
      - id: fare
        call: fares.GetFare
        when: request.params.id != "none"
        input: { body: { route: "{{ request.params.id }}" } }
    response:
      body:
        kind: fare
        price: "{{ steps.fare.amount }}"
        label: "{{ steps.fare.amount }} {{ steps.fare.currency }}"
        fare: "{{ steps.fare }}"
`);
    const schema = responses['200']!.content!['application/json']!.schema as {
      properties: Record<string, unknown>;
      required: string[];
    };
    assert.deepEqual(schema.properties.kind, { type: 'string', const: 'fare' });
    assert.deepEqual(schema.properties.price, { type: 'number' });
    assert.deepEqual(schema.properties.label, { type: 'string' });
    assert.deepEqual(schema.properties.fare, {
      anyOf: [
        { type: 'object', properties: { amount: { type: 'number' }, currency: { type: 'string' } } },
        { type: 'null' },
      ],
    });
    assert.deepEqual(schema.required, ['kind', 'price', 'label', 'fare']);
  });

  test('a declared schema pins the published one', async () => {
    const responses = await responsesOf(`endpoints:
  - method: GET
    path: /pinned
    flow: []
    response:
      status: 200
      body: { a: 1 }
      schema: { type: object, properties: { a: { type: integer, minimum: 1 } } }
`);
    assert.deepEqual(responses['200']!.content!['application/json']!.schema, {
      type: 'object',
      properties: { a: { type: 'integer', minimum: 1 } },
    });
  });
});

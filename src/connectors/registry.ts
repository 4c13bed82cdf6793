/** Which factory builds the connector of each service kind. A new connector adds one line here. */
import type { ServiceConfig } from '../config/schema.ts';
import type { Connector, ConnectorFactoryContext, ConnectorIssue } from '../contracts/connector.ts';
import { createAmqpConnector } from './amqp/amqp-connector.ts';
import { createGraphqlConnector } from './graphql/graphql-connector.ts';
import { createGrpcConnector } from './grpc/grpc-connector.ts';
import { createHttpConnector } from './http/http-connector.ts';
import { createNatsConnector } from './nats/nats-connector.ts';
import { createSoapConnector } from './soap/soap-connector.ts';
import { createXmlConnector } from './xml/xml-connector.ts';

type FactoryFor<Kind extends ServiceConfig['kind']> = (
  config: Extract<ServiceConfig, { kind: Kind }>,
  ctx: ConnectorFactoryContext,
) => Promise<Connector | { issues: ConnectorIssue[] }>;

const FACTORIES: { [Kind in ServiceConfig['kind']]: FactoryFor<Kind> } = {
  http: createHttpConnector,
  nats: createNatsConnector,
  amqp: createAmqpConnector,
  graphql: createGraphqlConnector,
  grpc: createGrpcConnector,
  soap: createSoapConnector,
  xml: createXmlConnector,
};

/** Builds the connector of a service from its validated config. */
export function createConnector(
  config: ServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const factory = FACTORIES[config.kind] as FactoryFor<typeof config.kind>;
  return factory(config, ctx);
}

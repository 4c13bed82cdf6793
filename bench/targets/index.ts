/** The target registry, in table order. */
import type { TargetName } from '../scenarios/types.ts';
import { chorusBaselineTarget, chorusTarget } from './chorus.ts';
import { directTarget } from './direct.ts';
import { expressGatewayTarget } from './express-gateway.ts';
import { fastGatewayTarget } from './fast-gateway.ts';
import { fastifyHttpProxyTarget } from './fastify-http-proxy.ts';
import { graphqlMercuriusTarget } from './graphql-mercurius.ts';
import { handwrittenTarget } from './handwritten.ts';
import { nginxTarget } from './nginx.ts';
import type { Target } from './types.ts';

export const TARGETS: Record<TargetName, Target> = {
  direct: directTarget,
  handwritten: handwrittenTarget,
  nginx: nginxTarget,
  'fast-gateway': fastGatewayTarget,
  'fastify-http-proxy': fastifyHttpProxyTarget,
  'express-gateway': expressGatewayTarget,
  'graphql-mercurius': graphqlMercuriusTarget,
  chorus: chorusTarget,
  'chorus-baseline': chorusBaselineTarget,
};

/**
 * Express Gateway 1.16 (Express + http-proxy, keep-alive agent) with one pipeline: the public
 * path proxied to the backend path. Its config lives in a directory of YAML files, written here.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadScenario } from '../scenarios/index.ts';
import { serverArgs } from './node-server.ts';

const args = serverArgs();
const scenario = loadScenario(args.scenario);
const require = createRequire(import.meta.url);
const dir = mkdtempSync(path.join(tmpdir(), 'chorus-bench-express-gateway-'));
const packageDir = path.dirname(require.resolve('express-gateway/package.json'));
cpSync(path.join(packageDir, 'lib/config/models'), path.join(dir, 'models'), { recursive: true });
// The in-memory Redis emulation: no Redis needed, nothing persisted.
writeFileSync(
  path.join(dir, 'system.config.yml'),
  `db:
  redis:
    emulate: true
    namespace: EG
crypto:
  cipherKey: sensitiveKey
  algorithm: aes256
  saltRounds: 10
session:
  secret: bench
  resave: false
  saveUninitialized: false
accessTokens:
  timeToExpiry: 7200000
refreshTokens:
  timeToExpiry: 7200000
authorizationCodes:
  timeToExpiry: 300000
`,
);
// ignorePath: the backend path is the service endpoint's own path, not the public one appended.
writeFileSync(
  path.join(dir, 'gateway.config.yml'),
  `http:
  port: ${args.port}
  hostname: 127.0.0.1
apiEndpoints:
  api:
    host: '*'
    paths: ['${scenario.path}']
serviceEndpoints:
  backend:
    url: '${args.backends.static}${scenario.upstreamPath}'
policies:
  - proxy
pipelines:
  default:
    apiEndpoints: [api]
    policies:
      - proxy:
          - action:
              serviceEndpoint: backend
              ignorePath: true
`,
);
const eg = require('express-gateway') as () => { load(dir: string): { run(): Promise<unknown> } };
await eg().load(dir).run();
process.on('SIGTERM', () => process.exit(0));

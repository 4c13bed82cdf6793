/**
 * The deployment files agree with each other and with the gateway: the Dockerfile's shape (multi
 * stage, production dependencies only, non-root, health check, stop signal, config path), the
 * config they ship loads and compiles, the Kubernetes manifests validate against the Kubernetes
 * API schemas (kubernetes-models) and their probes, ports, grace period and secrets match the
 * config, and the compose file runs three replicas behind a load balancer with Redis.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { parse, parseAllDocuments } from 'yaml';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { REDIS_URL } from './support/brokers.ts';

const root = new URL('../', import.meta.url);
const read = (path: string): Promise<string> => readFile(new URL(path, root), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by the assertions below
type Loose = any;

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Loose;
  [key: string]: Loose;
};

/** Every manifest the kustomization lists, plus the ConfigMap it generates. */
async function manifests(): Promise<Manifest[]> {
  const kustomization = parse(await read('deploy/kustomization.yaml')) as {
    resources: string[];
    configMapGenerator: { name: string; files: string[] }[];
  };
  const docs: Manifest[] = [];
  for (const resource of kustomization.resources) {
    for (const doc of parseAllDocuments(await read(`deploy/${resource}`)))
      docs.push(doc.toJSON() as Manifest);
  }
  for (const generator of kustomization.configMapGenerator) {
    const data: Record<string, string> = {};
    for (const file of generator.files) data[file] = await read(`deploy/${file}`);
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
  }
  return docs;
}

/** Seconds of a duration like "5s" or "1m". */
function seconds(duration: string | number): number {
  if (typeof duration === 'number') return duration / 1000;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  assert.ok(match, `a duration: ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

describe('deployment files', () => {
  test('the Dockerfile: multi-stage on Node 24 slim, production dependencies only, non-root, health check, SIGTERM, the documented config path', async () => {
    const dockerfile = await read('Dockerfile');
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length >= 2, 'multi-stage');
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-[a-z]+-slim$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /^COPY --from=deps \/app\/node_modules/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n.*\/healthz/m);
    assert.match(dockerfile, /^STOPSIGNAL SIGTERM$/m);
    assert.match(dockerfile, /^COPY deploy\/gateway\.yaml \/etc\/chorus\/gateway\.yaml$/m);
    assert.match(dockerfile, /^CMD \["start", "\/etc\/chorus\/gateway\.yaml"\]$/m);
    const ignore = (await read('.dockerignore')).split('\n');
    for (const entry of ['**/node_modules', '.git', 'test', 'bench', '**/*.test.ts'])
      assert.ok(ignore.includes(entry), entry);
    // Everything the image copies exists and is not ignored.
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      assert.ok(!ignore.includes(from!), `${from} is copied but ignored`);
      await readFile(new URL(from!, root)).catch(async () => readdir(new URL(from!, root)));
    }
  });

  test('the shipped config loads and compiles', async () => {
    const loaded = await loadConfig(new URL('deploy/gateway.yaml', root).pathname, {
      env: { CHORUS_ADMIN_TOKEN: 'a-deploy-test-admin-token', REDIS_URL },
    });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.issues.map(formatIssue).join('\n'));
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    assert.ok(compiled.ok, compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n'));
    await compiled.plan.close();
  });

  test('the Kubernetes manifests validate against the Kubernetes API schemas', async (t) => {
    // A computed specifier: the package is optional where it is not installed (typed as any).
    const model = (path: string) => import(`kubernetes-models/${path}`);
    const models = await import(`kubernetes-models${''}`).then(
      () => true,
      () => false,
    );
    if (!models) {
      const reason = 'kubernetes-models is not installed (a devDependency: run npm install)';
      if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this cannot be skipped`);
      console.warn(`SKIP Kubernetes schema validation: ${reason}`);
      t.skip(reason);
      return;
    }
    const classes: Record<string, () => Promise<new (data: Manifest) => { validate(): void }>> = {
      'apps/v1/Deployment': async () => (await model('apps/v1/Deployment')).Deployment,
      'v1/Service': async () => (await model('v1/Service')).Service,
      'v1/ConfigMap': async () => (await model('v1/ConfigMap')).ConfigMap,
      'v1/Secret': async () => (await model('v1/Secret')).Secret,
      'autoscaling/v2/HorizontalPodAutoscaler': async () =>
        (await model('autoscaling/v2/HorizontalPodAutoscaler')).HorizontalPodAutoscaler,
      'policy/v1/PodDisruptionBudget': async () =>
        (await model('policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
    };
    const kinds = new Set<string>();
    for (const manifest of await manifests()) {
      const key = `${manifest.apiVersion}/${manifest.kind}`;
      const Model = await classes[key]?.();
      assert.ok(Model, `no schema for ${key}`);
      assert.doesNotThrow(() => new Model(manifest).validate(), `${key} ${manifest.metadata.name}`);
      kinds.add(manifest.kind);
    }
    assert.deepEqual([...kinds].sort(), [
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
    // And a broken one is refused: the validation is real.
    const Deployment = await classes['apps/v1/Deployment']!();
    const broken = (await manifests()).find((m) => m.kind === 'Deployment')!;
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    assert.throws(() => new Deployment(broken).validate(), /containerPort/);
  });

  test('probes, ports, grace period, config mount and secrets agree with the gateway config', async () => {
    const all = await manifests();
    const config = parse(await read('deploy/gateway.yaml')) as {
      server: { port: number; drainDelay: string; shutdownGrace: string };
    };
    const deployment = all.find((m) => m.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.equal(container.ports[0].containerPort, config.server.port);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.startupProbe.httpGet.path, '/healthz');
    // Readiness must notice the drain before the listener stops: probed within drainDelay.
    const drain = seconds(config.server.drainDelay);
    assert.ok(container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold < drain);
    assert.ok(pod.terminationGracePeriodSeconds >= drain + seconds(config.server.shutdownGrace) + 5);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(container.resources.requests.memory && container.resources.limits.memory);
    // The config is mounted where the image's command reads it.
    const mount = container.volumeMounts.find((v: { name: string }) => v.name === 'config');
    assert.equal(`${mount.mountPath}/gateway.yaml`, container.args[1]);
    assert.equal(
      pod.volumes.find((v: { name: string }) => v.name === 'config').configMap.name,
      'chorus-config',
    );
    // Every ${env.X} the config needs without a default is in the Secret or the container's env.
    const secret = all.find((m) => m.kind === 'Secret')!;
    const provided = new Set([
      ...Object.keys(secret.stringData),
      ...container.env.map((e: { name: string }) => e.name),
    ]);
    for (const [, name] of (await read('deploy/gateway.yaml')).matchAll(/\$\{env\.([A-Z_]+)\}/g))
      assert.ok(provided.has(name!), name);
    assert.deepEqual(container.envFrom, [{ secretRef: { name: secret.metadata.name } }]);
    // Service, HPA and PDB point at the Deployment's pods.
    const labels = deployment.spec.template.metadata.labels;
    assert.deepEqual(all.find((m) => m.kind === 'Service')!.spec.selector, labels);
    assert.deepEqual(all.find((m) => m.kind === 'PodDisruptionBudget')!.spec.selector.matchLabels, labels);
    assert.equal(
      all.find((m) => m.kind === 'HorizontalPodAutoscaler')!.spec.scaleTargetRef.name,
      deployment.metadata.name,
    );
  });

  test('compose: three gateway replicas behind nginx with Redis and the MediaCo providers, a grace period covering the drain', async () => {
    const compose = parse(await read('deploy/compose/compose.yaml')) as { services: Record<string, Loose> };
    const config = parse(await read('deploy/gateway.yaml')) as {
      server: { drainDelay: string; shutdownGrace: string };
    };
    const { gateway, lb, redis, mediaco } = compose.services;
    assert.equal(gateway.deploy.replicas, 3);
    assert.ok(
      seconds(gateway.stop_grace_period) >=
        seconds(config.server.drainDelay) + seconds(config.server.shutdownGrace),
    );
    assert.ok(gateway.volumes.includes('../gateway.yaml:/etc/chorus/gateway.yaml:ro'));
    assert.match(lb.image, /^nginx:/);
    assert.match(redis.image, /^redis:/);
    assert.deepEqual(mediaco.entrypoint, ['node', 'examples/mediaco/backends/serve.ts']);
    assert.match(await read('deploy/compose/nginx.conf'), /server gateway:8080/);
  });
});

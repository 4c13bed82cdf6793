/**
 * The MediaCo portal in a real browser, the way a newcomer first meets Chorus: at a phone's width
 * (390 px) and a desktop's (1440 px) the overview shows examples/mediaco/api.md, the item endpoint
 * shows its flow inline and the problem responses it can really give, and nothing is wider than
 * the viewport. Screenshots go to test-artifacts/portal/mediaco-<width>-<what>.png.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { type DemoBackends, startDemoBackends } from '../examples/mediaco/backends/servers.ts';
import type { Gateway } from '../src/server/server.ts';
import { assertFits, launchChromium, requireChromium } from './support/browser.ts';
import { startGatewayFromFile } from './support/gateway.ts';

const CONFIG = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts', 'portal');

const skip = await requireChromium();

// The parts of /openapi.json read here, loosely.
type OpenApi = {
  info: { description: string };
  paths: Record<string, Record<string, { responses: Responses }>>;
};
// biome-ignore lint/suspicious/noExplicitAny: a JSON document read by a test
type Responses = Record<string, any>;

describe('the MediaCo portal in a browser', { skip }, () => {
  let backends: DemoBackends;
  let gateway: Gateway;
  let browser: Browser;

  before(async () => {
    backends = await startDemoBackends({ nats: false });
    gateway = await startGatewayFromFile(path.resolve(CONFIG), { ...process.env, ...backends.gatewayEnv() });
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await backends?.close();
  });

  test('its OpenAPI document carries the description and no filler problem examples', async () => {
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as OpenApi;
    assert.match(document.info.description, /## Getting started/);
    const text = JSON.stringify(document.paths);
    assert.doesNotMatch(text, /additionalProp\d|path\/index\.html|CHORUS_ROUTE_NOT_FOUND/);
    const item = document.paths['/catalog/items/{id}']?.get?.responses ?? {};
    const codes = (status: string): string[] =>
      Object.keys(item[status]?.content?.['application/problem+json']?.examples ?? {});
    assert.deepEqual(codes('401'), ['CHORUS_UNAUTHORIZED']);
    assert.deepEqual(codes('429'), ['CHORUS_RATE_LIMITED'], 'the plans have rate limits');
    assert.ok(codes('502').includes('CHORUS_UPSTREAM_PROTOCOL'), 'SOAP and GraphQL providers');
    assert.ok(codes('503').includes('CHORUS_CIRCUIT_OPEN'), 'the providers have breakers');
    // Each example names a call that can really cause it: a protocol error comes from SOAP or GraphQL.
    const protocol = item['502'].content['application/problem+json'].examples.CHORUS_UPSTREAM_PROTOCOL.value;
    assert.ok(['album', 'series'].includes(protocol.step), `the protocol example names ${protocol.step}`);
  });

  for (const width of [390, 1440]) {
    test(`at ${width} px the overview and the item endpoint fit the screen`, async () => {
      const context = await browser.newContext({ viewport: { width, height: width > 800 ? 1000 : 844 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${gateway.url}/portal`);
      await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
      assert.equal(await page.locator('#overview h2', { hasText: 'Getting started' }).count(), 1);
      await assertFits(page, 'MediaCo home');
      await page.screenshot({ path: path.join(ARTIFACTS, `mediaco-${width}-home.png`), fullPage: true });

      const operation = page.locator('.opblock', { has: page.locator('[data-path="/catalog/items/{id}"]') });
      await operation.first().locator('.opblock-summary').click();
      await operation.first().locator('svg.chorus-flow').waitFor({ state: 'visible' });
      await assertFits(page, 'MediaCo item endpoint');
      await operation.first().locator('.flow-figure').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, `mediaco-${width}-item.png`) });
      // The problem responses: one per status, an example per code (here the 502's first).
      await operation.first().locator('.response[data-code="502"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, `mediaco-${width}-errors.png`) });
      assert.deepEqual(problems, []);
      await context.close();
    });
  }
});

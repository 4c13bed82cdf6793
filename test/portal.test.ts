/**
 * The portal in a real browser (playwright-core driving Debian's chromium): the endpoint list, an
 * endpoint's flow diagram, try-it against the live gateway, and that request's trace as a
 * waterfall. Screenshots go to test-artifacts/portal/. Every file the page loads must come from the
 * gateway itself (no CDN: the portal works offline).
 */
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { type Gateway, startGateway } from '../src/server/server.ts';
import { startBackend, type TestBackend } from './support/backend.ts';
import { writeConfig } from './support/gateway.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts', 'portal');
const ADMIN_TOKEN = 'portal-test-admin-token-0123456789';

/** Skips (loudly) when chromium is missing; under CI=true that is a failure instead. */
async function requireChromium(): Promise<string | false> {
  try {
    await access(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    const how = 'install it with: apt-get install -y chromium (or set CHROMIUM_BIN)';
    if (process.env.CI === 'true') throw new Error(`chromium is not at ${CHROMIUM} and CI=true: ${how}`);
    console.warn(`SKIP portal browser tests: no chromium at ${CHROMIUM} — ${how}`);
    return `no chromium at ${CHROMIUM}`;
  }
}

const skip = await requireChromium();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('the portal in a browser', { skip }, () => {
  let backend: TestBackend;
  let gateway: Gateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requested: string[] = [];
  const problems: string[] = [];

  before(async () => {
    let userCalls = 0;
    backend = await startBackend(async (req, res) => {
      const url = req.url ?? '/';
      // Every other call of /users fails with 503, so each request retries it once.
      if (url.startsWith('/users') && userCalls++ % 2 === 0) {
        await delay(20);
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"reason":"busy"}');
        return;
      }
      await delay(url.startsWith('/shipments') ? 15 : 60);
      const id = url.split('/')[2] ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, orderId: `o-${id}`, name: `Customer ${id}`, tags: ['a', 'b'] }));
    });
    const file = await writeConfig(`
portal: { title: Shop API }
admin: { credential: "\${env.CHORUS_ADMIN_TOKEN}" }
services:
  shop:
    kind: http
    url: ${backend.url}
    retry: { attempts: 3, backoff: 5ms, maxBackoff: 10ms }
    operations:
      user: { path: "/users/{id}" }
      orders: { path: "/orders/{id}" }
      shipment: { path: "/shipments/{id}" }
      tag: { path: "/tags/{name}" }
endpoints:
  - method: GET
    path: /customers/{id}
    summary: A customer with their latest shipment
    tags: [customers]
    input:
      params: { id: { type: string, description: The customer id, example: "42" } }
    flow:
      - id: user
        call: shop.user
        input: { params: { id: "{{ request.params.id }}" } }
      - id: orders
        call: shop.orders
        cache: { ttl: 5m, key: request.params.id }
        input: { params: { id: "{{ request.params.id }}" } }
      - id: shipment
        call: shop.shipment
        when: steps.orders.orderId != ""
        input: { params: { id: "{{ steps.orders.orderId }}" } }
      - id: tags
        call: shop.tag
        forEach: steps.user.tags
        concurrency: 2
        onError: skip
        input: { params: { name: "{{ item }}" } }
    response:
      body: { name: "{{ steps.user.name }}", shipment: "{{ steps.shipment.id }}", tags: "{{ size(steps.tags) }}" }
  - method: GET
    path: /hello
    summary: A greeting, mapped without any backend
    tags: [misc]
    flow:
      - { id: greeting, map: { hello: world } }
`);
    const loaded = await loadConfig(file, { env: { CHORUS_ADMIN_TOKEN: ADMIN_TOKEN } });
    if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
    const logger = pino({ level: 'silent' });
    const compiled = await compilePlan(loaded.loaded, logger);
    if (!compiled.ok) throw new Error(compiled.issues.map(formatIssue).join('\n'));
    gateway = await startGateway(compiled.plan, { logger, port: 0, host: '127.0.0.1' });

    await mkdir(ARTIFACTS, { recursive: true });
    // launch() gives the browser a fresh, temporary user-data-dir of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await backend?.close();
  });

  test('it lists the endpoints, loading everything from the gateway itself', async () => {
    await page.goto(`${gateway.url}/portal`);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    assert.equal(await page.title(), 'Shop API');
    const summaries = await page.locator('.opblock-summary-path').allTextContents();
    for (const route of ['/customers/{id}', '/hello', '/healthz', '/readyz']) {
      assert.ok(
        summaries.some((text) => text.replace(/\u200b/g, '') === route),
        `${route} listed in ${summaries}`,
      );
    }
    await page.screenshot({ path: path.join(ARTIFACTS, '1-endpoints.png'), fullPage: true });
    const foreign = requested.filter((url) => !url.startsWith(gateway.url) && !url.startsWith('data:'));
    assert.deepEqual(foreign, [], 'no request leaves the gateway');
  });

  test('an endpoint shows its flow diagram', async () => {
    const operation = page.locator('#operations-customers-getCustomersById');
    await operation.locator('.opblock-summary').click();
    const diagram = operation.locator('img[src$="/portal/flows/getCustomersById.svg"]');
    await diagram.waitFor({ state: 'visible' });
    await page.waitForFunction(
      (img) => {
        const image = img as unknown as { complete: boolean; naturalWidth: number } | null;
        return image?.complete === true && image.naturalWidth > 0;
      },
      await diagram.elementHandle(),
    );
    const svg = await (await fetch(`${gateway.url}/portal/flows/getCustomersById.svg`)).text();
    for (const text of [
      'shop.user',
      'shop.orders',
      'shop.shipment',
      'if steps.orders.orderId',
      'each steps.user.tags ×2',
      'on error: skip',
    ]) {
      assert.ok(svg.includes(text.replace(/"/g, '&#34;')), `the diagram says ${text}`);
    }
    await diagram.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, '2-flow-diagram.png'), fullPage: false });
  });

  test('try-it calls the live gateway and shows the answer', async () => {
    const operation = page.locator('#operations-customers-getCustomersById');
    await operation.locator('button.try-out__btn').click();
    await operation.locator('input[placeholder="id"]').fill('42');
    // Twice: the second answer's orders come from the step cache.
    await operation.locator('button.execute').click();
    await operation
      .locator('.live-responses-table tbody .response-col_status')
      .first()
      .waitFor({ timeout: 15_000 });
    await operation.locator('button.btn-clear').click();
    await operation.locator('button.execute').click();
    const body = operation.locator('.live-responses-table .response-col_description pre').first();
    await body.waitFor({ timeout: 15_000 });
    const text = await body.textContent();
    assert.match(text ?? '', /"name": "Customer 42"/);
    assert.match(text ?? '', /"shipment": "o-42"/);
    assert.equal(
      (
        await operation.locator('.live-responses-table tbody .response-col_status').first().textContent()
      )?.trim(),
      '200',
    );
    await page.screenshot({ path: path.join(ARTIFACTS, '3-try-it.png'), fullPage: false });
  });

  test("that request's trace shows the waterfall of its backend calls", async () => {
    const link = page.locator('#open-trace');
    await link.waitFor({ state: 'visible' });
    const requestId = await link.getAttribute('data-request-id');
    assert.ok(requestId);
    await link.click();
    await page.locator('#admin-token').fill(ADMIN_TOKEN);
    await page.locator('#traces-refresh').click();
    await page.locator(`.trace-row[data-request-id="${requestId}"]`).waitFor();
    const chart = page.locator('[data-testid="waterfall"]');
    await chart.waitFor();
    const steps = await chart
      .locator('.wf-row.wf-call')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-step')));
    // user, orders, shipment, and one tags call per tag (forEach).
    assert.deepEqual([...steps].sort(), ['orders', 'shipment', 'tags', 'tags', 'user']);
    const title = await page.locator('#waterfall h2').textContent();
    assert.match(title ?? '', /GET \/customers\/42 → 200/);
    const notes = await chart
      .locator('.wf-row.wf-call')
      .evaluateAll((rows) =>
        rows.map((row) => `${row.getAttribute('data-step')}: ${row.querySelector('.wf-notes')?.textContent}`),
      );
    assert.ok(notes.includes('shipment: waited for orders'), notes.join('\n'));
    assert.ok(notes.includes('user: retried ×1'), notes.join('\n'));
    assert.ok(notes.includes('orders: from cache'), notes.join('\n'));
    assert.equal(await chart.locator('.wf-row.cached[data-step="orders"]').count(), 1);
    // The timings shown: user and orders overlap (parallel); shipment starts once orders has ended.
    // (Times are shown to 0.1 ms; bars have a minimum width, so the text is what is compared.)
    const timings = await chart.locator('.wf-row.wf-call').evaluateAll((rows) =>
      rows.map((row) => ({
        step: row.getAttribute('data-step'),
        text: row.querySelector('.wf-time')?.textContent ?? '',
      })),
    );
    const span = (step: string): { start: number; end: number } => {
      const shown = timings.find((t) => t.step === step)?.text ?? '';
      const match = /^([\d.]+) \+([\d.]+) ms$/.exec(shown);
      assert.ok(match, `timing of ${step}: ${shown}`);
      return { start: Number(match[1]), end: Number(match[1]) + Number(match[2]) };
    };
    assert.ok(span('user').start < span('orders').end && span('orders').start < span('user').end, 'parallel');
    assert.ok(span('shipment').start >= span('orders').end - 0.15, 'shipment waited for orders');
    const bars = await chart.locator('.wf-row.wf-call .wf-bar').count();
    assert.equal(bars, 5, 'one bar per backend call');
    await chart.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, '4-trace-waterfall.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no error in the page');
  });
});

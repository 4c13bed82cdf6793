/**
 * The portal in a real browser (playwright-core driving Debian's chromium), at a phone's width
 * (390 px) and a desktop's (1440 px): the home page with the API description, an endpoint with its
 * inline flow diagram, try-it against the live gateway, and that request's trace as a waterfall.
 * At each step nothing may be wider than the viewport, and every waterfall lane has a width.
 * Screenshots go to test-artifacts/portal/<width>-<what>.png. Every file the page loads must come
 * from the gateway itself (no CDN: the portal works offline).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { type Gateway, startGateway } from '../src/server/server.ts';
import { startBackend, type TestBackend } from './support/backend.ts';
import { assertFits, launchChromium, requireChromium } from './support/browser.ts';
import { writeConfig } from './support/gateway.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts', 'portal');
const ADMIN_TOKEN = 'portal-test-admin-token-0123456789';
const LONG_CONDITION = 'steps.orders.orderId != "" && steps.orders.orderId != "cancelled-before-shipping"';

const skip = await requireChromium();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('the portal in a browser', { skip }, () => {
  let backend: TestBackend;
  let gateway: Gateway;
  let browser: Browser;
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
      // One tag always fails: its step skips it (onError: skip).
      if (url === '/tags/b') {
        await delay(10);
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"reason":"broken tag"}');
        return;
      }
      await delay(url.startsWith('/shipments') ? 15 : 60);
      const id = url.split('/')[2] ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, orderId: `o-${id}`, name: `Customer ${id}`, tags: ['a', 'b'] }));
    });
    const file = await writeConfig(`
portal:
  title: Shop API
  version: 2.1.0
  descriptionFile: ./api.md
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
      query: { gift: { type: string, description: Wrap it as a gift (yes or no) } }
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
        when: '${LONG_CONDITION}'
        input: { params: { id: "{{ steps.orders.orderId }}" } }
      - id: tags
        call: shop.tag
        forEach: steps.user.tags
        concurrency: 2
        onError: skip
        input: { params: { name: "{{ item }}" } }
      - id: gift
        when: has(request.query.gift) && request.query.gift == "yes"
        map: { wrapped: true }
      - id: score
        description: Scores the customer from their name, in code.
        code: { module: ./score.mjs, export: score }
        after: [user]
    response:
      body: { name: "{{ steps.user.name }}", shipment: "{{ steps.shipment.id }}", tags: "{{ size(steps.tags) }}", score: "{{ steps.score }}" }
  - method: GET
    path: /hello
    summary: A greeting, mapped without any backend, answered from the response cache
    tags: [misc]
    policies: { cache: { ttl: 1m } }
    flow:
      - { id: greeting, map: { hello: world } }
`);
    const dir = path.dirname(file);
    await writeFile(
      path.join(dir, 'api.md'),
      [
        '# Welcome to the Shop API',
        '',
        'Customers, their **orders** and shipments, composed from the shop backends.',
        '',
        '## Getting started',
        '',
        '1. Find a customer: `GET /customers/{id}`.',
        '2. Read the [flow diagram](#reference) of each endpoint to see which backends it calls.',
        '',
        '<script>window.injected = true</script> <b>raw HTML is shown as text</b>',
        '',
        '[a bad link](javascript:window.injected=true)',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'score.mjs'),
      'export function score(scope) { let s = 0; for (let i = 0; i < 20000; i++) s += i % 7; return String(scope.steps.user.name).length + (s % 3); }\n',
    );
    const loaded = await loadConfig(file, { env: { CHORUS_ADMIN_TOKEN: ADMIN_TOKEN } });
    if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
    const logger = pino({ level: 'silent' });
    const compiled = await compilePlan(loaded.loaded, logger);
    if (!compiled.ok) throw new Error(compiled.issues.map(formatIssue).join('\n'));
    gateway = await startGateway(compiled.plan, { logger, port: 0, host: '127.0.0.1' });

    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await backend?.close();
  });

  for (const width of [1440, 390]) {
    describe(`at ${width} px`, () => {
      let page: Page;
      const shot = (name: string): string => path.join(ARTIFACTS, `${width}-${name}.png`);

      before(async () => {
        const context = await browser.newContext({
          viewport: { width, height: width > 800 ? 1000 : 844 },
          deviceScaleFactor: 1,
        });
        page = await context.newPage();
        page.on('request', (request) => requested.push(request.url()));
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(`console: ${message.text()}`);
        });
      });

      test('the home page shows the API description, escaped, and lists the endpoints from the gateway itself', async () => {
        await page.goto(`${gateway.url}/portal`);
        await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
        assert.equal(await page.title(), 'Shop API');
        const overview = page.locator('#overview');
        assert.equal(await overview.locator('h1', { hasText: 'Welcome to the Shop API' }).count(), 1);
        assert.equal(await overview.locator('h2', { hasText: 'Getting started' }).count(), 1);
        assert.equal(await overview.locator('strong', { hasText: 'orders' }).count(), 1);
        // Raw HTML in the Markdown is text, and the javascript: link is not a link.
        assert.match((await overview.textContent()) ?? '', /<script>window\.injected = true<\/script>/);
        assert.equal(await overview.locator('script, b').count(), 0);
        assert.equal(await overview.locator('a[href^="javascript"]').count(), 0);
        assert.equal(await page.evaluate(() => window.injected), undefined);

        const summaries = await page.locator('.opblock-summary-path').allTextContents();
        for (const route of ['/customers/{id}', '/hello', '/healthz', '/readyz']) {
          assert.ok(
            summaries.some((text) => text.replace(/\u200b/g, '') === route),
            `${route} listed in ${summaries}`,
          );
        }
        await assertFits(page, 'home');
        await page.screenshot({ path: shot('1-home'), fullPage: true });
        const foreign = requested.filter((url) => !url.startsWith(gateway.url) && !url.startsWith('data:'));
        assert.deepEqual(foreign, [], 'no request leaves the gateway');
      });

      test('an endpoint shows its flow diagram inline, each box focusable with its whole text', async () => {
        const operation = page.locator('#operations-customers-getCustomersById');
        await operation.locator('.opblock-summary').click();
        const diagram = operation.locator('svg.chorus-flow');
        await diagram.waitFor({ state: 'visible' });
        assert.equal(await operation.locator('img[src*="/flows/"]').count(), 0, 'the SVG, not an <img>');
        const labels = await diagram
          .locator('.node')
          .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('aria-label') ?? ''));
        for (const text of [
          'http · shop.user',
          'http · shop.orders',
          `if ${LONG_CONDITION}`,
          'each steps.user.tags ×2',
          'on error: skip',
          'code · ./score.mjs#score',
          'Scores the customer from their name, in code.',
        ]) {
          assert.ok(
            labels.some((label) => label.includes(text)),
            `a box says ${text}: ${labels.join(' | ')}`,
          );
        }
        // The condition is cut in the box, whole on focus (keyboard) and in the box's <title> (hover).
        const shipment = diagram.locator('[data-node="step-shipment"]');
        const shown = await shipment
          .locator(':scope > text')
          .evaluateAll((lines) =>
            lines
              .map((line) => [...line.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent))
              .join(' '),
          );
        assert.ok(!shown.includes(LONG_CONDITION) && shown.includes('if steps.orders.orderId'), shown);
        assert.ok(((await shipment.locator(':scope > title').textContent()) ?? '').includes(LONG_CONDITION));
        await diagram.locator('[data-node="request"]').focus();
        await page.keyboard.press('Tab'); // the next box: user
        await page.keyboard.press('Tab'); // orders
        await page.keyboard.press('Tab'); // shipment
        assert.equal(
          await page.evaluate(() => document.activeElement?.getAttribute('data-node')),
          'step-shipment',
        );
        const tip = page.locator('#flow-tip');
        await tip.waitFor({ state: 'visible' });
        assert.ok(((await tip.textContent()) ?? '').includes(LONG_CONDITION), 'the whole condition on focus');
        await assertFits(page, 'endpoint');
        await operation.scrollIntoViewIfNeeded();
        await page.screenshot({ path: shot('2-endpoint-flow') });
        await page.keyboard.press('Escape');
      });

      test('the endpoint lists its problem responses with an example per catalogue code', async () => {
        const operation = page.locator('#operations-customers-getCustomersById');
        const statuses = await operation
          .locator('.responses-table .response .response-col_status')
          .allTextContents();
        assert.deepEqual(
          statuses.map((text) => text.trim()),
          ['200', '400', '500', '502', '503', '504'],
        );
        const text = (await operation.locator('.responses-table').textContent()) ?? '';
        assert.match(text, /CHORUS_UPSTREAM_TIMEOUT/);
        assert.doesNotMatch(text, /additionalProp\d|path\/index\.html|CHORUS_ROUTE_NOT_FOUND/);
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
        await assertFits(page, 'try-it');
        await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
        await page.screenshot({ path: shot('3-try-it') });
      });

      test("that request's trace shows a waterfall with a time axis and what each step did", async () => {
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
        const title = await page.locator('#waterfall h2').textContent();
        assert.match(title ?? '', /GET \/customers\/42 → 200/);

        const rows = await chart.locator('.wf-step').evaluateAll((all) =>
          all.map((row) => ({
            step: row.getAttribute('data-step'),
            kind: row.classList.contains('wf-call')
              ? 'call'
              : row.classList.contains('wf-code')
                ? 'code'
                : row.classList.contains('wf-skipped')
                  ? 'skipped'
                  : 'other',
            label: row.querySelector('.wf-label')?.textContent ?? '',
            notes: row.querySelector('.wf-notes')?.textContent ?? '',
            time: row.querySelector('.wf-time')?.textContent ?? '',
          })),
        );
        const of = (step: string) => rows.filter((row) => row.step === step);
        // user, orders, shipment and one tags call per tag are backend calls; score is code; gift was skipped.
        assert.deepEqual(
          rows
            .filter((row) => row.kind === 'call')
            .map((row) => row.step)
            .sort(),
          ['orders', 'shipment', 'tags', 'tags', 'user'],
        );
        assert.deepEqual(
          of('score').map((row) => [row.kind, row.label]),
          [['code', 'score code']],
        );
        assert.deepEqual(
          of('gift').map((row) => [row.kind, row.notes]),
          [['skipped', 'skipped: its when condition was false']],
        );
        assert.equal(of('user')[0]?.notes, 'retried ×1');
        assert.equal(of('orders')[0]?.notes, 'from cache');
        assert.match(of('orders')[0]?.label ?? '', /call · shop\.orders/);
        assert.equal(of('shipment')[0]?.notes, 'waited for orders');
        assert.ok(
          of('tags').some((row) => /failed: CHORUS_UPSTREAM_STATUS → skipped \(onError\)/.test(row.notes)),
          of('tags')
            .map((row) => row.notes)
            .join(' | '),
        );
        assert.equal(await chart.locator('.wf-row.cached[data-step="orders"]').count(), 1);

        // The timings shown: user and orders overlap (parallel); shipment starts once orders has ended.
        const span = (step: string): { start: number; end: number } => {
          const shown = of(step)[0]?.time ?? '';
          const match = /^([\d.]+) \+([\d.]+) ms$/.exec(shown);
          assert.ok(match, `timing of ${step}: ${shown}`);
          return { start: Number(match[1]), end: Number(match[1]) + Number(match[2]) };
        };
        assert.ok(
          span('user').start < span('orders').end && span('orders').start < span('user').end,
          'parallel',
        );
        assert.ok(span('shipment').start >= span('orders').end - 0.15, 'shipment waited for orders');

        // A time axis from 0 ms, and every lane with a width.
        const ticks = await chart.locator('.wf-axis .wf-tick').allTextContents();
        assert.ok(ticks.length >= 3 && ticks[0] === '0 ms', `ticks: ${ticks.join(', ')}`);
        const lanes = await chart
          .locator('.wf-lane')
          .evaluateAll((all) => all.map((lane) => lane.getBoundingClientRect().width));
        assert.ok(lanes.length >= 9, `${lanes.length} lanes`);
        assert.ok(
          lanes.every((laneWidth) => laneWidth > 0),
          `lane widths ${lanes.join(', ')}`,
        );
        const bars = await chart
          .locator('.wf-bar')
          .evaluateAll((all) => all.map((bar) => bar.getBoundingClientRect().width));
        assert.ok(
          bars.every((barWidth) => barWidth >= 2),
          `bar widths ${bars.join(', ')}`,
        );
        await assertFits(page, 'waterfall');
        await page.locator('#waterfall').scrollIntoViewIfNeeded();
        await page.screenshot({ path: shot('4-waterfall'), fullPage: true });
      });

      test('a request the response cache answered is labelled "from cache" in the list and its waterfall', async () => {
        for (let i = 0; i < 2; i++) {
          const answer = await fetch(`${gateway.url}/hello?width=${width}`);
          assert.equal(answer.headers.get('x-cache'), i === 0 ? 'MISS' : 'HIT');
          await answer.arrayBuffer();
        }
        await page.locator('#traces-refresh').click();
        const row = page.locator('.trace-row', { hasText: `/hello` }).first();
        await row.waitFor();
        assert.equal(await row.locator('.badge.cached').textContent(), 'from cache');
        // Keyboard: the row is focusable and Enter opens it.
        await row.focus();
        await page.keyboard.press('Enter');
        const request = page.locator('[data-testid="waterfall"] .wf-request');
        await request.waitFor();
        await page.waitForFunction(() =>
          document.querySelector('#waterfall h2')?.textContent?.includes('/hello'),
        );
        assert.match((await request.textContent()) ?? '', /answered from the response cache/);
        assert.equal(await page.locator('[data-testid="waterfall"] .wf-step').count(), 0, 'no step ran');
        await assertFits(page, 'cached waterfall');
        assert.deepEqual(problems, [], 'no error in the page');
      });
    });
  }
});

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { compilePlan } from '../gateway.ts';
import { loadConfig } from '../modules.ts';
import { renderFlowDiagram } from './flow-diagram.ts';

async function compiled(yaml: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'chorus-diagram-'));
  const file = path.join(dir, 'gateway.yaml');
  await writeFile(file, yaml);
  const loaded = await loadConfig(file);
  assert.ok(loaded.ok);
  const result = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
  assert.ok(result.ok);
  return result.plan;
}

test('the diagram has a box per step with its call, condition, loop and error handling, and arrows for dependencies', async () => {
  const plan = await compiled(`
services:
  lookup: { kind: http, url: "http://127.0.0.1:1", operations: { locate: { path: "/l/{id}" } } }
  music: { kind: xml, url: "http://127.0.0.1:1", operations: { album: { path: /a } } }
endpoints:
  - method: GET
    path: /items/{id}
    flow:
      - id: where
        call: lookup.locate
        input: { params: { id: "{{ request.params.id }}" } }
      - id: album
        call: music.album
        when: steps.where.provider == "music" && steps.where.id != "<none>"
        onError: skip
      - id: each
        map: "{{ item }}"
        forEach: steps.where.tags
      - id: answer
        map: { a: "{{ steps.album }}", b: "{{ steps.each }}" }
`);
  await plan.close();
  const endpoint = plan.endpoints[0]!;
  const svg = renderFlowDiagram(endpoint, plan.config.endpoints[0]!, plan.config.services);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const step of ['where', 'album', 'each', 'answer'])
    assert.match(svg, new RegExp(`data-node="step-${step}"`));
  assert.match(svg, /http · lookup\.locate/);
  assert.match(svg, /xml · music\.album/);
  assert.match(svg, /if steps\.where\.provider == &#34;music&#34;/, 'the condition, escaped');
  assert.ok(
    svg.includes(
      '<title>if steps.where.provider == &#34;music&#34; &#38;&#38; steps.where.id != &#34;&#60;none&#62;&#34;</title>',
    ),
    'long text in full as a tooltip, escaped',
  );
  assert.match(svg, /each steps\.where\.tags ×10/);
  assert.match(svg, /on error: skip/);
  // request → where; where → album, each; album, each → answer; answer → response.
  assert.equal(svg.match(/class="edge start"/g)?.length, 1);
  assert.equal(svg.match(/class="edge dependency"/g)?.length, 4);
  assert.equal(svg.match(/class="edge end"/g)?.length, 1);
  assert.doesNotMatch(svg, /<script|href=/, 'a static picture');
  // Inline in the page: every box is focusable and named by its whole, unclipped text.
  assert.equal(
    svg.match(/<g class="node [^"]*" data-node="[^"]*" tabindex="0" role="img" aria-label="/g)?.length,
    6,
  );
  assert.ok(
    svg.includes(
      'aria-label="album\nxml · music.album\nif steps.where.provider == &#34;music&#34; &#38;&#38; steps.where.id != &#34;&#60;none&#62;&#34;\non error: skip"',
    ),
    'the box of album, named by its whole text',
  );
  assert.doesNotMatch(svg, /(^|[};])text\{/, 'styles scoped to the diagram');
  assert.match(svg, /marker id="arrow-getItemsById"/);
});

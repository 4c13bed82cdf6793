import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ConfigPath } from '../contracts/issues.ts';
import { readPortalDescription, renderDescription } from './description.ts';
import { portalSchema } from './schema.ts';

describe('the portal description', () => {
  test('Markdown is rendered, raw HTML is shown as text and script links are not links', () => {
    const html = renderDescription(
      '# Shop\n\nSome **bold** text and a [doc](https://example.com/doc).\n\n<script>alert(1)</script><img src=x onerror=alert(1)>\n\n[bad](javascript:alert(1)) [worse](data:text/html,<b>x</b>)\n',
    );
    assert.match(html, /<h1>Shop<\/h1>/);
    assert.match(html, /<strong>bold<\/strong>/);
    assert.match(html, /<a href="https:\/\/example\.com\/doc" rel="noopener noreferrer">doc<\/a>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.doesNotMatch(html, /<script|<img|href="javascript|href="data/);
  });

  test('a description file is read relative to the config file into portal.description', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-description-'));
    await writeFile(path.join(dir, 'api.md'), '# From a file\n');
    const portal = portalSchema.parse({ descriptionFile: './api.md' });
    const issues: string[] = [];
    await readPortalDescription(portal, dir, (at) => issues.push(at.join('.')));
    assert.deepEqual(issues, []);
    assert.equal(portal.description, '# From a file\n');
  });

  test('a missing description file is a load issue at portal.descriptionFile that says where it looked', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-description-'));
    const portal = portalSchema.parse({ descriptionFile: 'docs/missing.md' });
    const issues: { at: ConfigPath; message: string }[] = [];
    await readPortalDescription(portal, dir, (at, message) => issues.push({ at, message }));
    assert.deepEqual(issues[0]?.at, ['portal', 'descriptionFile']);
    assert.match(
      issues[0]?.message ?? '',
      /cannot read the portal description file "docs\/missing\.md" \(ENOENT\)/,
    );
    assert.equal(portal.description, undefined);
  });

  test('a description given both inline and as a file is refused', () => {
    const result = portalSchema.safeParse({ description: 'x', descriptionFile: 'y.md' });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ['descriptionFile']);
  });
});

/**
 * The developer portal, generated from the same config that runs the gateway: an API reference
 * with try-it (Swagger UI, served from the installed swagger-ui-dist package — never a CDN, so the
 * portal works offline), a flow diagram per endpoint, and the recent request traces as waterfalls
 * (read from the admin routes with the admin credential). Pages are built once per plan, on first use.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveOperationIds } from '../config/operation-ids.ts';
import type { CoreConfig } from '../config/schema.ts';
import type { GatewayPlan } from '../engine/plan.ts';
import { renderDescription } from './description.ts';
import { renderFlowDiagram } from './flow-diagram.ts';
import type { OpenApiDocument } from './openapi.ts';
import type { PortalConfig } from './schema.ts';

/** A file the portal answers with. */
export interface PortalFile {
  type: string;
  body: string | Buffer;
  /** Cache-Control value. */
  cache: string;
}

/** A plan as the portal reads it: the core config plus the portal's own settings. */
export type PortalPlan = GatewayPlan<CoreConfig & { readonly portal: PortalConfig }>;

/** The portal of one plan: answers the paths below its base path. */
export interface Portal {
  /** The file at `subpath` (the part after the base path, '' for the page), or undefined. */
  file(subpath: string): Promise<PortalFile | undefined>;
}

/** What the portal needs besides the plan. */
export interface PortalOptions {
  /** Where the portal is served, e.g. /portal. */
  basePath: string;
  /** Prefix of the admin routes when they are on (traces), else undefined. */
  adminPath: string | undefined;
  /** The gateway's OpenAPI document (read when the portal is first asked for); the portal's copy adds the flow diagrams. */
  openApi: () => OpenApiDocument;
}

const HTML = 'text/html; charset=utf-8';
const NO_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=3600';

const require = createRequire(import.meta.url);
// The portal's own script and styles stay in src/portal/assets (plain files, not compiled): the same
// path resolves from src/portal/ and from dist/portal/.
const OWN_ASSETS = fileURLToPath(new URL('../../src/portal/assets/', import.meta.url));
/** The files served under <portal>/assets/, from swagger-ui-dist and from ./assets. */
const ASSETS: Readonly<Record<string, { file: () => string; type: string }>> = {
  'swagger-ui-bundle.js': {
    file: () => require.resolve('swagger-ui-dist/swagger-ui-bundle.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'swagger-ui.css': {
    file: () => require.resolve('swagger-ui-dist/swagger-ui.css'),
    type: 'text/css; charset=utf-8',
  },
  'favicon-32x32.png': {
    file: () => require.resolve('swagger-ui-dist/favicon-32x32.png'),
    type: 'image/png',
  },
  'portal.js': { file: () => path.join(OWN_ASSETS, 'portal.js'), type: 'text/javascript; charset=utf-8' },
  'portal.css': { file: () => path.join(OWN_ASSETS, 'portal.css'), type: 'text/css; charset=utf-8' },
};
// Read once per process, on first use: the bundle is ~1.5 MB and the same for every plan.
const assetCache = new Map<string, Promise<Buffer>>();

/**
 * The portal of a plan. Its pages, document and flow diagrams are built when it is first asked for,
 * not at start (for 10,000 endpoints: ~300 ms and several MB that a gateway nobody browses never needs).
 */
export function buildPortal(plan: PortalPlan, options: PortalOptions): Portal {
  let built: Portal | undefined;
  return {
    async file(subpath) {
      built ??= buildPortalNow(plan, options);
      return built.file(subpath);
    },
  };
}

function buildPortalNow(plan: PortalPlan, options: PortalOptions): Portal {
  const config = plan.config;
  const ids = resolveOperationIds(config.endpoints);
  const flows = new Map<string, string>();
  const document = structuredClone(options.openApi());
  for (const endpoint of plan.endpoints) {
    const index = ids.indexOf(endpoint.id);
    const endpointConfig = config.endpoints[index];
    if (endpointConfig === undefined) continue;
    flows.set(`${endpoint.id}.svg`, renderFlowDiagram(endpoint, endpointConfig, config.services));
    const operation = document.paths[endpoint.path]?.[endpoint.method.toLowerCase()];
    if (operation === undefined || operation.operationId !== endpoint.id) continue;
    const image = `![Flow of ${endpoint.id}](${options.basePath}/flows/${endpoint.id}.svg)`;
    const described = typeof operation.description === 'string' ? `${operation.description}\n\n` : '';
    operation.description = `${described}**Flow**\n\n${image}`;
    operation['x-chorus-flow'] = `${options.basePath}/flows/${endpoint.id}.svg`;
  }
  const spec = JSON.stringify(document);
  const page = renderPage(config.portal, plan.endpoints.length, options);

  return {
    async file(subpath) {
      if (subpath === '' || subpath === '/') return { type: HTML, body: page, cache: NO_CACHE };
      if (subpath === '/openapi.json') {
        return { type: 'application/json; charset=utf-8', body: spec, cache: NO_CACHE };
      }
      if (subpath.startsWith('/flows/')) {
        const svg = flows.get(subpath.slice('/flows/'.length));
        return svg === undefined ? undefined : { type: 'image/svg+xml', body: svg, cache: NO_CACHE };
      }
      if (subpath.startsWith('/assets/')) return assetFile(subpath.slice('/assets/'.length));
      return undefined;
    },
  };
}

/**
 * A static file under <portal>/assets/ (the same for every plan), read from disk once per process.
 * Kept apart from the pages so that how assets are stored and served (e.g. precompressed) changes here only.
 */
async function assetFile(name: string): Promise<PortalFile | undefined> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (asset === undefined) return undefined;
  let loading = assetCache.get(name);
  if (!loading) {
    loading = readFile(asset.file());
    assetCache.set(name, loading);
    loading.catch(() => assetCache.delete(name));
  }
  return { type: asset.type, body: await loading, cache: ASSET_CACHE };
}

/**
 * The page: a header with the portal's nav, the overview (the API description, rendered once here
 * from Markdown with raw HTML escaped), the reference with try-it, and the request traces. Every
 * value from the config is escaped; the page has no inline script (the CSP allows only the
 * gateway's own files).
 */
function renderPage(portal: PortalConfig, endpointCount: number, options: PortalOptions): string {
  const base = escapeHtml(options.basePath);
  const admin = options.adminPath === undefined ? '' : escapeHtml(options.adminPath);
  const title = escapeHtml(portal.title);
  const description =
    portal.description === undefined
      ? ''
      : `<div class="markdown">${renderDescription(portal.description)}</div>`;
  const count = `${endpointCount} endpoint${endpointCount === 1 ? '' : 's'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" type="image/png" href="${base}/assets/favicon-32x32.png">
<link rel="stylesheet" href="${base}/assets/swagger-ui.css">
<link rel="stylesheet" href="${base}/assets/portal.css">
</head>
<body data-base="${base}" data-admin="${admin}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="chorus-bar">
  <p class="brand">${title} <span class="version">v${escapeHtml(portal.version)}</span></p>
  <nav aria-label="Portal">
    <a href="#reference" data-tab="reference" class="active" aria-current="page">API reference</a>
    <a href="#traces" data-tab="traces">Request traces</a>
    <a href="/openapi.json" download="openapi.json">openapi.json</a>
  </nav>
</header>
<main id="main" tabindex="-1">
  <section id="reference-panel" data-panel="reference" aria-label="API reference">
    <section id="overview" class="overview" aria-labelledby="overview-title">
      <h1 id="overview-title">${title}</h1>
      ${description}
      <p class="overview-facts">${count} · <a href="/openapi.json" download="openapi.json">download the OpenAPI document</a> · press <kbd>/</kbd> to filter by tag</p>
    </section>
    <div id="swagger"></div>
  </section>
  <section id="traces-panel" data-panel="traces" aria-label="Request traces" hidden>
    <h1 class="panel-title">Request traces</h1>
    <div class="traces-auth">
      <label for="admin-token">Admin credential</label>
      <input id="admin-token" type="password" autocomplete="off" placeholder="bearer token">
      <button id="traces-refresh" type="button">Show traces</button>
      <span id="traces-status" role="status"></span>
    </div>
    <table id="traces-list"><caption class="visually-hidden">Recent requests; choose one to see its waterfall</caption><thead><tr><th class="col-time">time</th><th>request</th><th>status</th><th>ms</th><th class="col-calls">calls</th><th class="col-id">id</th></tr></thead><tbody></tbody></table>
    <div id="waterfall" aria-live="polite"></div>
  </section>
</main>
<div id="trace-toast" role="status" hidden></div>
<div id="flow-tip" role="tooltip" hidden></div>
<script src="${base}/assets/swagger-ui-bundle.js"></script>
<script src="${base}/assets/portal.js"></script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

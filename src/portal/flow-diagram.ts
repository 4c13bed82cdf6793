/**
 * The flow diagram of an endpoint, drawn server-side as a self-contained SVG from the compiled plan:
 * one box per step (its call, map or code body, its condition, loop and error handling), arrows
 * for the dependencies the compiler inferred, laid out in columns by dependency depth so steps
 * that run in parallel stand one above the other. Drawn once per plan, served as a file.
 */
import type { EndpointConfig, ServiceConfig, StepConfig } from '../config/schema.ts';
import type { EndpointPlan, StepPlan } from '../engine/plan.ts';

const BOX_WIDTH = 230;
const LINE_HEIGHT = 16;
const BOX_PADDING = 12;
const COLUMN_GAP = 64;
const ROW_GAP = 22;
const MARGIN = 20;
const TEXT_LIMIT = 32;
const TITLE_LIMIT = 27;

interface Node {
  key: string;
  /** The node's whole text, unclipped: its tooltip and its accessible name. */
  full: string;
  column: number;
  lines: { text: string; title?: string; className: string }[];
  className: string;
  x: number;
  y: number;
  height: number;
}

/** Draws the flow of an endpoint as an SVG document. */
export function renderFlowDiagram(
  endpoint: EndpointPlan,
  config: EndpointConfig,
  services: Readonly<Record<string, ServiceConfig>>,
): string {
  const steps = endpoint.flow.steps;
  const depth = depths(steps);
  const lastColumn = steps.length === 0 ? 1 : Math.max(...depth) + 2;
  const nodes: Node[] = [];
  const request: Node = node('request', 0, 'terminal', [
    { text: `${endpoint.method} ${endpoint.path}`, className: 'title' },
    { text: 'request', className: 'kind' },
  ]);
  nodes.push(request);
  const stepNodes = steps.map((step) => {
    const stepConfig = config.flow[step.index];
    const created = node(
      `step-${step.id}`,
      depth[step.index]! + 1,
      `step ${step.kind}`,
      stepLines(step, stepConfig, services),
      stepConfig?.description,
    );
    nodes.push(created);
    return created;
  });
  const response: Node = node('response', lastColumn, 'terminal', [
    { text: 'response', className: 'title' },
    { text: responseSummary(config), className: 'kind' },
  ]);
  nodes.push(response);

  // Columns: stack boxes, then centre each column on the tallest one.
  const columns = new Map<number, Node[]>();
  for (const each of nodes) columns.set(each.column, [...(columns.get(each.column) ?? []), each]);
  const columnHeight = (list: readonly Node[]): number =>
    list.reduce((sum, each) => sum + each.height, 0) + ROW_GAP * (list.length - 1);
  const tallest = Math.max(...[...columns.values()].map(columnHeight));
  for (const [column, list] of columns) {
    let y = MARGIN + (tallest - columnHeight(list)) / 2;
    for (const each of list) {
      each.x = MARGIN + column * (BOX_WIDTH + COLUMN_GAP);
      each.y = y;
      y += each.height + ROW_GAP;
    }
  }

  const marker = `arrow-${endpoint.id.replace(/[^\w-]/g, '_')}`;
  const edge = (from: Node, to: Node, className: string): string => drawEdge(from, to, className, marker);
  const edges: string[] = [];
  for (const step of steps) {
    const target = stepNodes[step.index]!;
    if (step.dependencies.length === 0) edges.push(edge(request, target, 'start'));
    for (const dependency of step.dependencies)
      edges.push(edge(stepNodes[dependency]!, target, 'dependency'));
    if (step.dependents.length === 0) edges.push(edge(target, response, 'end'));
  }
  if (steps.length === 0) edges.push(edge(request, response, 'end'));

  const width = MARGIN * 2 + (lastColumn + 1) * BOX_WIDTH + lastColumn * COLUMN_GAP;
  const height = MARGIN * 2 + tallest;
  return [
    // Inline in the portal page: the styles are scoped to .chorus-flow and the marker id is the
    // endpoint's, so several diagrams on one page do not restyle the page or each other.
    `<svg xmlns="http://www.w3.org/2000/svg" class="chorus-flow" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="group" aria-label="${escapeXml(`Flow of ${endpoint.method} ${endpoint.path}: ${steps.length} steps`)}">`,
    `<title>${escapeXml(`Flow of ${endpoint.method} ${endpoint.path}`)}</title>`,
    `<style>${STYLE}</style>`,
    `<defs><marker id="${marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>`,
    ...edges,
    ...nodes.map(drawNode),
    '</svg>',
  ].join('\n');
}

/** The column of each step: 0 for roots, else one past its deepest dependency. */
function depths(steps: readonly StepPlan[]): number[] {
  const depth = new Array<number>(steps.length).fill(-1);
  const visit = (index: number): number => {
    if (depth[index]! >= 0) return depth[index]!;
    depth[index] = 0; // cycles are load errors; this only guards the recursion
    const step = steps[index]!;
    depth[index] = step.dependencies.length === 0 ? 0 : 1 + Math.max(...step.dependencies.map(visit));
    return depth[index]!;
  };
  for (let i = 0; i < steps.length; i++) visit(i);
  return depth;
}

function node(
  key: string,
  column: number,
  className: string,
  lines: Node['lines'],
  description?: string,
): Node {
  // Long text is cut to fit the box; the whole of it is the line's tooltip and the box's.
  const fitted = lines.map((line) => (line.title === undefined ? clipped(line.text, line.className) : line));
  const whole = lines.map((line) => line.title ?? line.text);
  if (description !== undefined) whole.push(description);
  return {
    key,
    full: whole.join('\n'),
    column,
    lines: fitted,
    className,
    x: 0,
    y: 0,
    height: BOX_PADDING * 2 + lines.length * LINE_HEIGHT,
  };
}

function stepLines(
  step: StepPlan,
  config: StepConfig | undefined,
  services: Readonly<Record<string, ServiceConfig>>,
): Node['lines'] {
  const lines: Node['lines'] = [{ text: step.id, className: 'title' }];
  if (step.target !== undefined) {
    const kind = services[step.target.service]?.kind ?? 'service';
    lines.push({ text: `${kind} · ${step.target.service}.${step.target.operation}`, className: 'kind' });
  } else if (step.kind === 'code') {
    const code = config?.code;
    const name =
      code !== undefined && typeof code === 'object' ? `${code.module}#${code.export}` : 'inline function';
    lines.push(clipped(`code · ${name}`, 'kind'));
  } else lines.push({ text: 'map', className: 'kind' });
  if (config?.when !== undefined) lines.push(clipped(`if ${config.when}`, 'when'));
  if (config?.forEach !== undefined)
    lines.push(clipped(`each ${config.forEach} ×${step.concurrency}`, 'loop'));
  if (config?.cache !== undefined) lines.push({ text: 'cached', className: 'note' });
  if (step.onError.mode !== 'fail') lines.push({ text: `on error: ${step.onError.mode}`, className: 'note' });
  return lines;
}

function clipped(text: string, className: string): Node['lines'][number] {
  // Titles are bold and larger: fewer characters fit.
  const limit = className === 'title' ? TITLE_LIMIT : TEXT_LIMIT;
  if (text.length <= limit) return { text, className };
  return { text: `${text.slice(0, limit - 1)}…`, title: text, className };
}

function responseSummary(config: EndpointConfig): string {
  if (!Array.isArray(config.response)) return `status ${config.response?.status ?? 200}`;
  return `${config.response.length} cases`;
}

function drawEdge(from: Node, to: Node, className: string, marker: string): string {
  const x1 = from.x + BOX_WIDTH;
  const y1 = from.y + from.height / 2;
  const x2 = to.x - 2;
  const y2 = to.y + to.height / 2;
  const bend = (x2 - x1) / 2;
  return `<path class="edge ${className}" d="M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}" marker-end="url(#${marker})"/>`;
}

function drawNode(each: Node): string {
  const text = each.lines
    .map((line, i) => {
      const y = each.y + BOX_PADDING + LINE_HEIGHT * (i + 1) - 4;
      const title = line.title === undefined ? '' : `<title>${escapeXml(line.title)}</title>`;
      return `<text class="${line.className}" x="${each.x + BOX_PADDING}" y="${y}">${title}${escapeXml(line.text)}</text>`;
    })
    .join('');
  // Each box is focusable (Tab walks the flow) and named by its whole text; <title> is the hover tooltip.
  const full = escapeXml(each.full);
  return `<g class="node ${each.className}" data-node="${escapeXml(each.key)}" tabindex="0" role="img" aria-label="${full}"><title>${full}</title><rect x="${each.x}" y="${each.y}" width="${BOX_WIDTH}" height="${each.height}" rx="8"/>${text}</g>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = [
  '.chorus-flow text{font:12px system-ui,-apple-system,Segoe UI,sans-serif;fill:#1e293b}',
  '.chorus-flow text.title{font-weight:600;font-size:13px}',
  '.chorus-flow text.kind{fill:#475569}',
  '.chorus-flow text.when{fill:#b45309}',
  '.chorus-flow text.loop{fill:#7c3aed}',
  '.chorus-flow text.note{fill:#0f766e}',
  '.chorus-flow .node rect{fill:#fff;stroke:#94a3b8;stroke-width:1.5}',
  '.chorus-flow .node.call rect{fill:#eff6ff;stroke:#3b82f6}',
  '.chorus-flow .node.code rect{fill:#f5f3ff;stroke:#8b5cf6}',
  '.chorus-flow .node.map rect{fill:#f8fafc;stroke:#94a3b8}',
  '.chorus-flow .node.terminal rect{fill:#f1f5f9;stroke:#334155}',
  '.chorus-flow .node{cursor:help;outline:none}',
  '.chorus-flow .node:focus rect,.chorus-flow .node:hover rect{stroke:#0f172a;stroke-width:3}',
  '.chorus-flow .edge{fill:none;stroke:#64748b;stroke-width:1.5}',
  '.chorus-flow .edge.start,.chorus-flow .edge.end{stroke-dasharray:4 3}',
].join('');

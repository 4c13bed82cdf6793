// The Chorus portal's own script: starts Swagger UI (from the gateway, never a CDN), puts each flow
// diagram inline (so its boxes can be hovered and focused for their whole text), switches between
// the reference and the traces, and draws a request's trace as a waterfall with a time axis. Plain
// browser JavaScript, no build step; every value from the server is written as text, never as HTML
// (the flow diagrams are the gateway's own SVG, parsed as XML, and carry no script).
(() => {
  const body = document.body;
  const base = body.dataset.base;
  const admin = body.dataset.admin;
  const TOKEN_KEY = 'chorus-admin-token';
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---- tabs ----
  const tabs = document.querySelectorAll('[data-tab]');
  const panels = document.querySelectorAll('[data-panel]');
  function show(name) {
    for (const tab of tabs) {
      const active = tab.dataset.tab === name;
      tab.classList.toggle('active', active);
      if (active) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    for (const panel of panels) panel.hidden = panel.dataset.panel !== name;
    if (name === 'traces') loadTraces();
  }
  for (const tab of tabs) {
    tab.addEventListener('click', (event) => {
      event.preventDefault();
      show(tab.dataset.tab);
      history.replaceState(null, '', `#${tab.dataset.tab}`);
    });
  }

  // ---- API reference with try-it ----
  window.SwaggerUIBundle({
    url: `${base}/openapi.json`,
    dom_id: '#swagger',
    deepLinking: true,
    displayRequestDuration: true,
    filter: true, // a box that narrows the list by tag; "/" or Ctrl+K focuses it
    defaultModelsExpandDepth: -1, // schemas are shown where they are used, not as a separate list
    validatorUrl: null, // never call validator.swagger.io: the portal stays offline
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    responseInterceptor: (response) => {
      const headers = response.headers || {};
      const requestId = headers['x-request-id'];
      if (requestId && admin && response.url && !response.url.includes('/openapi.json'))
        offerTrace(requestId);
      return response;
    },
  });

  document.addEventListener('keydown', (event) => {
    const typing = event.target.closest?.('input, textarea, select, [contenteditable="true"]');
    const slash = event.key === '/' && !typing;
    const ctrlK = event.key.toLowerCase() === 'k' && (event.ctrlKey || event.metaKey);
    if (!slash && !ctrlK) return;
    const filter = document.querySelector('.swagger-ui .operation-filter-input');
    if (!filter) return;
    event.preventDefault();
    show('reference');
    filter.focus();
  });

  // ---- flow diagrams, inline ----
  // Swagger UI renders an operation's description (with the diagram as a Markdown image) when it is
  // opened; the image is swapped for the SVG itself. The description is React's raw HTML, so
  // changing inside it does not upset React.
  const diagrams = new Map();
  function diagram(url) {
    if (!diagrams.has(url)) {
      diagrams.set(
        url,
        fetch(url).then((response) => {
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return response.text();
        }),
      );
    }
    return diagrams.get(url);
  }
  async function inlineDiagram(img) {
    img.dataset.inlining = 'yes';
    const url = img.getAttribute('src');
    try {
      const text = await diagram(url);
      const parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
      const svg = parsed.documentElement;
      if (svg.namespaceURI !== SVG_NS || svg.querySelector('script, foreignObject')) return;
      const figure = document.createElement('figure');
      figure.className = 'flow-figure';
      const scroller = document.createElement('div');
      scroller.className = 'flow-scroll';
      scroller.append(document.importNode(svg, true));
      const caption = document.createElement('figcaption');
      caption.textContent =
        'Hover or Tab to a box for its whole text. Boxes one above the other run in parallel.';
      figure.append(scroller, caption);
      // Swagger wraps a Markdown image in a <p>: replace that, not just the image.
      const holder =
        img.parentElement?.tagName === 'P' && img.parentElement.childElementCount === 1
          ? img.parentElement
          : img;
      holder.replaceWith(figure);
    } catch {
      img.dataset.inlining = 'failed'; // the image stays: the diagram is still seen
    }
  }
  function inlineAll(root) {
    for (const img of root.querySelectorAll('img[src*="/flows/"]:not([data-inlining])')) inlineDiagram(img);
  }
  const swaggerRoot = document.getElementById('swagger');
  new MutationObserver(() => inlineAll(swaggerRoot)).observe(swaggerRoot, { childList: true, subtree: true });

  // The whole text of a box, on hover and on keyboard focus (a native <title> shows on hover only).
  const tip = document.getElementById('flow-tip');
  function showTip(node) {
    // The <title> keeps the box's lines apart (an attribute's line breaks become spaces).
    tip.textContent =
      node.querySelector(':scope > title')?.textContent || node.getAttribute('aria-label') || '';
    tip.hidden = false;
    const box = node.getBoundingClientRect();
    const width = Math.min(tip.offsetWidth, window.innerWidth - 16);
    const left = Math.max(
      8,
      Math.min(box.left + window.scrollX, window.scrollX + window.innerWidth - width - 8),
    );
    tip.style.left = `${left}px`;
    tip.style.top = `${box.bottom + window.scrollY + 6}px`;
  }
  function hideTip() {
    tip.hidden = true;
  }
  const flowNode = (event) => event.target.closest?.('.chorus-flow .node');
  document.addEventListener('focusin', (event) => {
    const node = flowNode(event);
    if (node) showTip(node);
  });
  document.addEventListener('focusout', (event) => {
    if (flowNode(event)) hideTip();
  });
  document.addEventListener('mouseover', (event) => {
    const node = flowNode(event);
    if (node) showTip(node);
  });
  document.addEventListener('mouseout', (event) => {
    const node = flowNode(event);
    if (node && !node.contains(event.relatedTarget)) hideTip();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hideTip();
  });

  const toast = document.getElementById('trace-toast');
  function offerTrace(requestId) {
    toast.replaceChildren();
    const text = document.createElement('span');
    text.textContent = `Request ${requestId} answered. `;
    const link = document.createElement('a');
    link.href = '#traces';
    link.id = 'open-trace';
    link.dataset.requestId = requestId;
    link.textContent = 'Open its trace';
    link.addEventListener('click', (event) => {
      event.preventDefault();
      toast.hidden = true;
      show('traces');
      openTrace(requestId);
    });
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'toast-close';
    close.setAttribute('aria-label', 'Dismiss');
    close.textContent = '×';
    close.addEventListener('click', () => {
      toast.hidden = true;
    });
    text.append(link);
    toast.append(text, close);
    toast.hidden = false;
  }

  // ---- traces ----
  const tokenInput = document.getElementById('admin-token');
  const status = document.getElementById('traces-status');
  const listBody = document.querySelector('#traces-list tbody');
  const waterfall = document.getElementById('waterfall');
  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || '';
  // A trace asked for before the credential was entered: opened once it is.
  let pendingTrace;
  async function refresh() {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
    await loadTraces();
    if (pendingTrace && tokenInput.value) {
      const id = pendingTrace;
      pendingTrace = undefined;
      openTrace(id);
    }
  }
  document.getElementById('traces-refresh').addEventListener('click', refresh);
  tokenInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') refresh();
  });

  async function adminGet(path) {
    const response = await fetch(`${admin}${path}`, {
      headers: { authorization: `Bearer ${tokenInput.value}` },
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || `HTTP ${response.status}`);
    }
    return response.json();
  }

  async function loadTraces() {
    if (!admin) {
      status.textContent = 'Traces are off: set admin.credential in the config to keep them.';
      return;
    }
    if (!tokenInput.value) {
      status.textContent = 'Enter the admin credential to see the traces.';
      return;
    }
    status.textContent = 'Loading…';
    try {
      const { traces } = await adminGet('/traces');
      status.textContent = `${traces.length} recent requests`;
      listBody.replaceChildren(...traces.map(traceRow));
    } catch (error) {
      status.textContent = `Cannot read traces: ${error.message}`;
    }
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function traceRow(trace) {
    const row = document.createElement('tr');
    row.className = 'trace-row';
    row.dataset.requestId = trace.requestId;
    row.dataset.traceId = trace.traceId;
    // A row is a button for the keyboard too: Tab to it, Enter or Space opens its waterfall.
    row.tabIndex = 0;
    row.setAttribute(
      'aria-label',
      `${trace.method} ${trace.path}, status ${trace.status}: open its waterfall`,
    );
    const calls = typeof trace.calls === 'number' ? trace.calls : trace.spanCount - 1;
    const request = cell(`${trace.method} ${trace.path}`, 'col-request');
    if (trace.cached) {
      const badge = document.createElement('span');
      badge.className = 'badge cached';
      badge.textContent = 'from cache';
      request.append(' ', badge);
    }
    row.append(
      cell(new Date(trace.startedAt).toLocaleTimeString(), 'col-time'),
      request,
      cell(String(trace.status), trace.status >= 500 ? 'bad' : trace.status >= 400 ? 'warn' : 'good'),
      cell(trace.durationMs.toFixed(1)),
      cell(String(calls), 'col-calls'),
      cell(trace.requestId, 'mono col-id'),
    );
    const open = () => openTrace(trace.traceId);
    row.addEventListener('click', open);
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        open();
      }
    });
    return row;
  }

  async function openTrace(id) {
    waterfall.replaceChildren();
    if (!tokenInput.value) {
      pendingTrace = id;
      waterfall.textContent = `Enter the admin credential to see the trace of ${id}.`;
      tokenInput.focus();
      return;
    }
    try {
      const trace = await adminGet(`/traces/${encodeURIComponent(id)}`);
      drawWaterfall(trace);
    } catch (error) {
      waterfall.textContent = `Cannot read the trace: ${error.message}`;
    }
  }

  // ---- the waterfall ----

  /** A tick interval of 1, 2 or 5 × 10^n giving 4 to 8 ticks over `total` ms. */
  function tickStep(total) {
    const rough = total / 5;
    const power = 10 ** Math.floor(Math.log10(rough));
    for (const factor of [1, 2, 5, 10]) if (power * factor >= rough) return power * factor;
    return power * 10;
  }
  function ms(value) {
    if (Number.isInteger(value)) return String(value);
    return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  }

  /** What happened to each step that the request span's events tell (skipped by when, recovered by onError). */
  function stepEvents(root) {
    const skipped = [];
    const recovered = new Map();
    for (const event of root.events) {
      const step = event.attributes['chorus.step'];
      if (typeof step !== 'string') continue;
      // Events and spans are timed by two clocks that may differ by a fraction of a millisecond.
      const atMs = Math.max(0, event.atMs);
      if (event.name === 'step.skipped') skipped.push({ step, atMs, reason: event.attributes.reason });
      else if (event.name === 'step.skip' || event.name === 'step.fallback') {
        const list = recovered.get(step) || [];
        list.push({
          mode: event.name.slice(5),
          code: event.attributes['chorus.error.code'],
          atMs,
        });
        recovered.set(step, list);
      }
    }
    return { skipped, recovered };
  }

  /** The notes of a step's span: cache, retries, breaker, waits, loop item, failure. */
  function facts(span, recovered) {
    const out = [];
    const retries = span.events.filter((e) => e.name === 'retry').length;
    if (retries > 0) out.push(`retried ×${retries}`);
    if (span.events.some((e) => e.name === 'cache.hit')) out.push('from cache');
    if (span.events.some((e) => e.name === 'circuit.open')) out.push('circuit open');
    const after = span.attributes['chorus.step.after'];
    if (Array.isArray(after) && after.length > 0) out.push(`waited for ${after.join(', ')}`);
    if (span.attributes['chorus.item'] !== undefined) out.push(`item ${span.attributes['chorus.item']}`);
    if (span.status === 'error') {
      const how = recovered?.shift();
      out.push(
        how === undefined
          ? `failed: ${span.error}`
          : `failed: ${span.error} → ${how.mode === 'skip' ? 'skipped (onError)' : 'fallback value (onError)'}`,
      );
    }
    return out;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawWaterfall(trace) {
    const total = Math.max(trace.durationMs, 0.001);
    const at = (value) => `${Math.min(Math.max((value / total) * 100, 0), 100)}%`;
    const root = trace.spans[0];
    const children = trace.spans.slice(1);
    const { skipped, recovered } = stepEvents(root);
    const fromCache = root.events.some((e) => e.name === 'cache.hit');

    const title = element(
      'h2',
      '',
      `${trace.method} ${trace.path} → ${trace.status} in ${trace.durationMs.toFixed(1)} ms`,
    );
    const sub = element('p', 'mono wf-ids', `request ${trace.requestId} · trace ${trace.traceId}`);

    const chart = element('div', 'wf');
    chart.dataset.testid = 'waterfall';
    chart.setAttribute('role', 'list');
    chart.setAttribute('aria-label', 'Steps of the request over time');

    // The time axis: ticks at round milliseconds, above the lanes.
    const axis = element('div', 'wf-row wf-axis');
    axis.setAttribute('aria-hidden', 'true');
    const axisLane = element('div', 'wf-lane wf-axis-lane');
    const step = tickStep(total);
    for (let tick = 0; tick <= total + step / 1000; tick += step) {
      const mark = element('span', 'wf-tick', `${ms(tick)} ms`);
      mark.style.left = at(tick);
      if (tick / total > 0.85) mark.classList.add('end');
      axisLane.append(mark);
    }
    axis.append(element('div', 'wf-label', 'time'), axisLane, element('div', 'wf-time', ''));
    chart.append(axis);

    const rows = [];
    // The request itself.
    rows.push({
      start: -1,
      build: () =>
        row({
          className: `wf-request ${root.status}${fromCache ? ' cached' : ''}`,
          name: 'request',
          what: fromCache ? 'answered from the response cache' : root.name,
          span: root,
          notes: fromCache ? ['from cache: no step ran'] : [],
        }),
    });
    const recoveredLeft = new Map([...recovered].map(([key, list]) => [key, [...list]]));
    for (const span of children) {
      const stepId = span.attributes['chorus.step'] || '';
      const kind =
        span.attributes['chorus.step.kind'] || (span.attributes['chorus.service'] ? 'call' : 'code');
      const cached = span.events.some((e) => e.name === 'cache.hit');
      const target = span.attributes['chorus.service']
        ? `${span.attributes['chorus.service']}.${span.attributes['chorus.operation']}`
        : span.name;
      // Now, not when the row is built: this takes the span's onError events off recoveredLeft.
      const notes = facts(span, recoveredLeft.get(stepId));
      rows.push({
        start: span.startMs,
        build: () =>
          row({
            className: `wf-step ${kind === 'call' ? 'wf-call' : 'wf-code'} ${span.status}${cached ? ' cached' : ''}`,
            step: stepId,
            name: stepId || span.name,
            what: kind === 'call' ? `call · ${target}` : 'code',
            span,
            notes,
          }),
      });
    }
    // Steps recovered by onError without a span of their own (a map step that failed).
    for (const [stepId, list] of recoveredLeft) {
      for (const how of [...list]) {
        rows.push({
          start: how.atMs,
          build: () =>
            markRow({
              className: 'wf-step wf-recovered error',
              step: stepId,
              what: 'failed',
              atMs: how.atMs,
              note: `failed: ${how.code} → ${how.mode === 'skip' ? 'skipped (onError)' : 'fallback value (onError)'}`,
            }),
        });
      }
    }
    for (const each of skipped) {
      rows.push({
        start: each.atMs,
        build: () =>
          markRow({
            className: 'wf-step wf-skipped',
            step: each.step,
            what: 'skipped',
            atMs: each.atMs,
            note: each.reason === 'when' ? 'skipped: its when condition was false' : 'skipped',
          }),
      });
    }
    rows.sort((a, b) => a.start - b.start);
    for (const each of rows) chart.append(each.build());

    function row({ className, step, name, what, span, notes }) {
      const line = element('div', `wf-row ${className}`);
      line.setAttribute('role', 'listitem');
      if (step !== undefined) line.dataset.step = step;
      const label = element('div', 'wf-label');
      label.append(element('strong', '', name), ' ', element('span', 'wf-kind', what));
      label.title = `${name} ${what}`;
      const lane = element('div', 'wf-lane');
      const bar = element('div', 'wf-bar');
      bar.style.left = at(span.startMs);
      // A bar stays visible however short (a cache hit takes a fraction of a millisecond).
      const least = className.includes('cached') ? 8 : 3;
      bar.style.width = `max(${least}px, ${Math.min((span.durationMs / total) * 100, 100)}%)`;
      bar.title = `${name}: starts at ${span.startMs.toFixed(1)} ms, takes ${span.durationMs.toFixed(1)} ms`;
      lane.append(bar);
      for (const event of span.events) {
        if (event.name.startsWith('step.')) continue; // shown as rows of their own
        const mark = element('div', `wf-event ev-${event.name.replace(/[^a-z]/gi, '-')}`);
        mark.style.left = at(event.atMs);
        mark.title = `${event.name} at ${event.atMs.toFixed(1)} ms`;
        lane.append(mark);
      }
      const timing = element(
        'div',
        'wf-time',
        `${span.startMs.toFixed(1)} +${span.durationMs.toFixed(1)} ms`,
      );
      const notesLine = element('div', 'wf-notes', notes.join(' · '));
      line.setAttribute(
        'aria-label',
        `${name}, ${what}: starts at ${span.startMs.toFixed(1)} ms, takes ${span.durationMs.toFixed(1)} ms${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
      );
      line.append(label, lane, timing, notesLine);
      return line;
    }

    function markRow({ className, step, what, atMs, note }) {
      const line = element('div', `wf-row ${className}`);
      line.setAttribute('role', 'listitem');
      line.dataset.step = step;
      const label = element('div', 'wf-label');
      label.append(element('strong', '', step), ' ', element('span', 'wf-kind', what));
      const lane = element('div', 'wf-lane');
      const mark = element('div', 'wf-mark');
      mark.style.left = at(atMs);
      mark.title = `${step} ${what} at ${atMs.toFixed(1)} ms`;
      lane.append(mark);
      line.setAttribute('aria-label', `${step}: ${note}, at ${atMs.toFixed(1)} ms`);
      line.append(
        label,
        lane,
        element('div', 'wf-time', `${atMs.toFixed(1)} ms`),
        element('div', 'wf-notes', note),
      );
      return line;
    }

    const legend = element('ul', 'wf-legend');
    legend.setAttribute('aria-label', 'Legend');
    for (const [className, text] of [
      ['call', 'backend call'],
      ['code', 'code step'],
      ['cached', 'from cache'],
      ['error', 'failed'],
      ['skipped', 'skipped'],
      ['event', 'retry / cache hit / breaker'],
    ]) {
      legend.append(element('li', `key ${className}`, text));
    }
    waterfall.replaceChildren(title, sub, legend, chart);
  }

  if (location.hash === '#traces') show('traces');
})();

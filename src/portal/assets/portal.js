// The Chorus portal's own script: starts Swagger UI (from the gateway, never a CDN), switches
// between the reference and the traces, and draws a request's trace as a waterfall. Plain browser
// JavaScript, no build step; every value from the server is written as text, never as HTML.
(() => {
  const body = document.body;
  const base = body.dataset.base;
  const admin = body.dataset.admin;
  const TOKEN_KEY = 'chorus-admin-token';

  // ---- tabs ----
  const tabs = document.querySelectorAll('[data-tab]');
  const panels = document.querySelectorAll('[data-panel]');
  function show(name) {
    for (const tab of tabs) tab.classList.toggle('active', tab.dataset.tab === name);
    for (const panel of panels) panel.hidden = panel.dataset.panel !== name;
    if (name === 'traces') loadTraces();
  }
  for (const tab of tabs) {
    tab.addEventListener('click', (event) => {
      event.preventDefault();
      show(tab.dataset.tab);
    });
  }

  // ---- API reference with try-it ----
  window.SwaggerUIBundle({
    url: `${base}/openapi.json`,
    dom_id: '#swagger',
    deepLinking: true,
    displayRequestDuration: true,
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
    text.append(link);
    toast.append(text);
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
  document.getElementById('traces-refresh').addEventListener('click', async () => {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
    await loadTraces();
    if (pendingTrace && tokenInput.value) {
      const id = pendingTrace;
      pendingTrace = undefined;
      openTrace(id);
    }
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
    row.append(
      cell(new Date(trace.startedAt).toLocaleTimeString()),
      cell(`${trace.method} ${trace.path}`),
      cell(String(trace.status), trace.status >= 500 ? 'bad' : trace.status >= 400 ? 'warn' : 'good'),
      cell(trace.durationMs.toFixed(1)),
      cell(String(trace.spanCount - 1)),
      cell(trace.requestId, 'mono'),
    );
    row.addEventListener('click', () => openTrace(trace.traceId));
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

  /** What a span's events and attributes say about it, for its label. */
  function facts(span) {
    const out = [];
    const retries = span.events.filter((e) => e.name === 'retry').length;
    if (retries > 0) out.push(`retried ×${retries}`);
    if (span.events.some((e) => e.name === 'cache.hit')) out.push('from cache');
    if (span.events.some((e) => e.name === 'circuit.open')) out.push('circuit open');
    const after = span.attributes['chorus.step.after'];
    if (Array.isArray(after) && after.length > 0) out.push(`waited for ${after.join(', ')}`);
    if (span.attributes['chorus.item'] !== undefined) out.push(`item ${span.attributes['chorus.item']}`);
    if (span.status === 'error') out.push(`failed: ${span.error}`);
    for (const event of span.events) {
      if (event.name.startsWith('step.'))
        out.push(`${event.attributes['chorus.step']}: ${event.name.slice(5)}`);
    }
    return out;
  }

  function drawWaterfall(trace) {
    const total = Math.max(trace.durationMs, 0.001);
    const title = document.createElement('h2');
    title.textContent = `${trace.method} ${trace.path} → ${trace.status} in ${trace.durationMs.toFixed(1)} ms`;
    const sub = document.createElement('p');
    sub.className = 'mono';
    sub.textContent = `request ${trace.requestId} · trace ${trace.traceId}`;
    const chart = document.createElement('div');
    chart.className = 'wf';
    chart.dataset.testid = 'waterfall';
    for (const [index, span] of trace.spans.entries()) {
      const row = document.createElement('div');
      row.className = `wf-row ${index === 0 ? 'wf-request' : 'wf-call'} ${span.status}`;
      if (span.events.some((e) => e.name === 'cache.hit')) row.classList.add('cached');
      row.dataset.step = span.attributes['chorus.step'] || '';
      const label = document.createElement('div');
      label.className = 'wf-label';
      const name = document.createElement('strong');
      name.textContent = index === 0 ? 'request' : span.attributes['chorus.step'] || span.name;
      const what = document.createElement('span');
      what.textContent =
        index === 0 ? span.name : span.name === `step ${row.dataset.step}` ? 'code' : span.name;
      label.append(name, ' ', what);
      const lane = document.createElement('div');
      lane.className = 'wf-lane';
      const bar = document.createElement('div');
      bar.className = 'wf-bar';
      bar.style.left = `${(span.startMs / total) * 100}%`;
      bar.style.width = `${Math.max((span.durationMs / total) * 100, 0.4)}%`;
      bar.title = `${span.name}: starts at ${span.startMs.toFixed(1)} ms, takes ${span.durationMs.toFixed(1)} ms`;
      lane.append(bar);
      for (const event of span.events) {
        const mark = document.createElement('div');
        mark.className = `wf-event ev-${event.name.replace(/[^a-z]/gi, '-')}`;
        mark.style.left = `${(event.atMs / total) * 100}%`;
        mark.title = `${event.name} at ${event.atMs.toFixed(1)} ms`;
        lane.append(mark);
      }
      const timing = document.createElement('div');
      timing.className = 'wf-time';
      timing.textContent = `${span.startMs.toFixed(1)} +${span.durationMs.toFixed(1)} ms`;
      const notes = document.createElement('div');
      notes.className = 'wf-notes';
      notes.textContent = facts(span).join(' · ');
      row.append(label, lane, timing, notes);
      chart.append(row);
    }
    const legend = document.createElement('p');
    legend.className = 'wf-legend';
    for (const [className, text] of [
      ['ok', 'backend call'],
      ['error', 'failed'],
      ['cached', 'from cache'],
      ['event', 'event (retry, cache hit, circuit open)'],
    ]) {
      const key = document.createElement('span');
      key.className = `key ${className}`;
      key.textContent = text;
      legend.append(key);
    }
    waterfall.replaceChildren(title, sub, legend, chart);
  }

  if (location.hash === '#traces') show('traces');
})();

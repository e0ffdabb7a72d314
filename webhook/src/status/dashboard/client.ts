// The dashboard page's script, served as /dashboard.js: renders the snapshots of /api/events into
// the page, keeps each expanded app's chart from /api/series plus the live points, and never
// builds HTML from cluster data (text nodes only), so an Event message cannot inject markup.
// Kept as a string so it ships in dist/; it must contain no backtick and no dollar-brace.

export const DASHBOARD_JS = String.raw`(function () {
  'use strict';

  var WINDOW_MS = { '5m': 5 * 60000, '15m': 15 * 60000, '1h': 3600000, '6h': 6 * 3600000, all: null };
  var WINDOW_KEY = 'rainbow-dashboard-window';
  var THEME_KEY = 'rainbow-dashboard-theme';
  var COLLAPSE_ABOVE = 6;
  var CHART_HEIGHT = 170;

  var state = {
    snapshot: null,
    windowName: stored(WINDOW_KEY, '15m'),
    filter: '',
    expanded: new Map(),
    sections: new Map(),
    history: new Map(),
    seeding: new Map(),
    charts: new Map(),
    live: false
  };
  if (!(state.windowName in WINDOW_MS)) state.windowName = '15m';

  var $ = function (id) { return document.getElementById(id); };

  function stored(key, fallback) {
    try { return window.localStorage.getItem(key) || fallback; } catch (e) { return fallback; }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: the choice lasts for this page only */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') node.textContent = String(v);
        else if (k === 'className') node.className = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function swatch(css, color) {
    var s = el('span', { className: css ? 'swatch' : 'swatch none', role: 'img', 'aria-label': css ? 'color ' + css : 'color ' + color + ' (not a CSS color)' });
    if (css) s.style.backgroundColor = css;
    return s;
  }

  function duration(seconds) {
    if (seconds > 0 && seconds < 1) return Math.round(seconds * 1000) + 'ms';
    var s = Math.max(0, Math.floor(seconds));
    if (s < 120) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 180) return m + 'm';
    var h = Math.floor(s / 3600);
    if (h < 48) return h + 'h' + (m % 60 ? (m % 60) + 'm' : '');
    return Math.floor(h / 24) + 'd' + (h % 24 ? (h % 24) + 'h' : '');
  }

  function ago(iso, nowIso) {
    return duration((Date.parse(nowIso) - Date.parse(iso)) / 1000) + ' ago';
  }

  function localTime(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // ---- theme -------------------------------------------------------------------------------
  function currentTheme() {
    return document.documentElement.getAttribute('data-theme') || 'light';
  }
  function applyTheme(theme) {
    document.documentElement.setAttribute('data-theme', theme);
    var b = $('theme');
    var other = theme === 'dark' ? 'light' : 'dark';
    b.textContent = other === 'dark' ? 'Dark theme' : 'Light theme';
    b.setAttribute('aria-pressed', theme === 'dark' ? 'true' : 'false');
    b.setAttribute('aria-label', 'Switch to the ' + other + ' theme');
    state.charts.forEach(function (c) { c.theme = null; });
    redrawCharts();
  }
  function initTheme() {
    var saved = stored(THEME_KEY, '');
    var prefersDark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    applyTheme(saved === 'dark' || saved === 'light' ? saved : prefersDark ? 'dark' : 'light');
    $('theme').addEventListener('click', function () {
      var next = currentTheme() === 'dark' ? 'light' : 'dark';
      store(THEME_KEY, next);
      applyTheme(next);
    });
  }

  // ---- window picker -----------------------------------------------------------------------
  function initWindows() {
    var group = $('windows');
    Object.keys(WINDOW_MS).forEach(function (name) {
      var b = el('button', { type: 'button', 'data-window': name, 'aria-pressed': name === state.windowName ? 'true' : 'false', text: name });
      b.setAttribute('aria-label', name === 'all' ? 'Chart everything since the dashboard started' : 'Chart the last ' + name);
      b.addEventListener('click', function () {
        state.windowName = name;
        store(WINDOW_KEY, name);
        Array.prototype.forEach.call(group.querySelectorAll('button'), function (x) {
          x.setAttribute('aria-pressed', x.getAttribute('data-window') === name ? 'true' : 'false');
        });
        state.history.clear();
        if (state.snapshot) render(state.snapshot);
      });
      group.appendChild(b);
    });
  }

  // ---- filter and expand -------------------------------------------------------------------
  function searchText(app) {
    var parts = [app.key, app.namespace, app.app];
    app.colors.forEach(function (c) { parts.push(c.color, c.stateLabel || c.state, c.css || ''); });
    app.services.forEach(function (s) { parts.push(s.name); });
    return parts.join(' ').toLowerCase();
  }
  function matches(app) {
    var terms = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
    var text = searchText(app);
    return terms.every(function (t) { return text.indexOf(t) >= 0; });
  }
  function applyFilter() {
    if (!state.snapshot) return;
    var shown = 0;
    state.snapshot.apps.forEach(function (app) {
      var sec = state.sections.get(app.key);
      if (!sec) return;
      var ok = matches(app);
      sec.root.hidden = !ok;
      if (ok) shown++;
    });
    var total = state.snapshot.apps.length;
    $('shown').textContent = total === 0 ? '' : shown === total ? total + (total === 1 ? ' app' : ' apps') : 'showing ' + shown + ' of ' + total + ' apps';
  }
  function isExpanded(key) {
    if (!state.expanded.has(key)) state.expanded.set(key, !state.snapshot || state.snapshot.apps.length <= COLLAPSE_ABOVE);
    return state.expanded.get(key);
  }
  function setExpanded(key, open) {
    state.expanded.set(key, open);
    var sec = state.sections.get(key);
    if (!sec) return;
    sec.toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    sec.body.hidden = !open;
    if (!open) destroyChart(key);
    else if (state.snapshot) {
      var app = state.snapshot.apps.filter(function (a) { return a.key === key; })[0];
      if (app) updateChart(sec, app);
    }
  }
  function initControls() {
    var input = $('filter');
    input.addEventListener('input', function () { state.filter = input.value; applyFilter(); });
    $('expand-all').addEventListener('click', function () { state.sections.forEach(function (s, key) { if (!s.root.hidden) setExpanded(key, true); }); });
    $('collapse-all').addEventListener('click', function () { state.sections.forEach(function (s, key) { setExpanded(key, false); }); });
    var pending = false;
    window.addEventListener('resize', function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        state.charts.forEach(function (c) { c.plot.setSize({ width: chartWidth(c.container), height: CHART_HEIGHT }); });
      });
    });
  }

  // ---- one app -----------------------------------------------------------------------------
  function idFor(key) {
    return 'app-' + key.replace(/[^A-Za-z0-9_-]/g, '_');
  }

  function createSection(app) {
    var id = idFor(app.key);
    var toggle = el('button', { type: 'button', className: 'toggle', id: id + '-toggle', 'aria-controls': id + '-body', 'aria-expanded': 'false' });
    var name = el('span', { className: 'name', text: app.key });
    var summary = el('span', { className: 'summary' });
    toggle.appendChild(name);
    toggle.appendChild(summary);
    var body = el('div', { className: 'body', id: id + '-body', role: 'region', 'aria-labelledby': id + '-toggle' });
    var services = el('ul', { className: 'services', 'aria-label': 'Services' });
    var warnings = el('ul', { className: 'warnings', 'aria-label': 'Warnings' });
    var tbody = el('tbody');
    var table = el('table', { className: 'colors' }, [
      el('caption', { className: 'sr-only', text: 'Colors of ' + app.key }),
      el('thead', null, [el('tr', null, ['Color', 'State', 'Ready', 'Connections', 'Age', 'Drain started', 'Max-drain deadline', 'Forecast'].map(function (h) {
        return el('th', { scope: 'col', className: h === 'Connections' || h === 'Ready' ? 'num' : null, text: h });
      }))]),
      tbody
    ]);
    var caption = el('figcaption');
    var plot = el('div', { className: 'plot' });
    var figure = el('figure', { className: 'chart', role: 'img' }, [caption, plot]);
    var events = el('ol', { className: 'events', 'aria-label': 'Recent rainbow Events of ' + app.key });
    var eventsNote = el('p', { className: 'muted' });
    body.appendChild(services);
    body.appendChild(warnings);
    body.appendChild(table);
    body.appendChild(figure);
    body.appendChild(el('h3', { text: 'Recent Events' }));
    body.appendChild(eventsNote);
    body.appendChild(events);
    var root = el('section', { className: 'app', 'data-app': app.key, 'aria-label': app.key }, [el('h2', null, [toggle]), body]);
    var sec = { root: root, toggle: toggle, summary: summary, body: body, services: services, warnings: warnings, tbody: tbody, rows: new Map(), figure: figure, caption: caption, plot: plot, events: events, eventsNote: eventsNote, last: {} };
    toggle.addEventListener('click', function () { setExpanded(app.key, toggle.getAttribute('aria-expanded') !== 'true'); });
    return sec;
  }

  function changed(sec, part, value) {
    var json = JSON.stringify(value);
    if (sec.last[part] === json) return false;
    sec.last[part] = json;
    return true;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // One cell's content, rebuilt only when its key changes, so rows and swatches stay the same nodes.
  function setCell(td, key, build) {
    if (td.getAttribute('data-key') === key) return;
    td.setAttribute('data-key', key);
    clear(td);
    build(td);
  }

  function fillConnections(td, c) {
    if (c.connections !== undefined) {
      td.setAttribute('data-connections', String(c.connections));
      td.className = 'num connections';
      td.removeAttribute('title');
      td.textContent = String(c.connections);
    } else if (c.connectionsError !== undefined) {
      td.setAttribute('data-connections', 'unknown');
      td.className = 'num connections';
      td.removeAttribute('title');
      td.appendChild(el('span', { className: 'unknown', title: c.connectionsError, text: 'unknown' }));
      td.appendChild(el('span', { className: 'sr-only', text: ': ' + c.connectionsError }));
    } else {
      td.setAttribute('data-connections', 'none');
      td.className = 'num connections muted';
      td.setAttribute('title', 'no Deployment to ask');
      td.textContent = '—';
    }
  }

  var COLUMNS = ['color', 'state', 'ready', 'connections', 'age', 'started', 'deadline', 'forecast'];

  function createRow(c) {
    var cells = {};
    var tr = el('tr', { 'data-color': c.color });
    COLUMNS.forEach(function (name) {
      var td = el('td', { className: name === 'ready' ? 'num ready' : name === 'forecast' ? 'wrap forecast' : name === 'connections' ? 'num connections' : 'col-' + name });
      cells[name] = td;
      tr.appendChild(td);
    });
    return { tr: tr, cells: cells };
  }

  function fillRow(row, c, now, meanings) {
    var cells = row.cells;
    row.tr.setAttribute('data-state', c.state);
    setCell(cells.color, c.color + '|' + (c.css || ''), function (td) { td.appendChild(swatch(c.css, c.color)); td.appendChild(document.createTextNode(' ')); td.appendChild(el('code', { text: c.color })); });
    setCell(cells.state, c.stateLabel || c.state, function (td) { td.appendChild(el('span', { className: 'state state-' + c.state, title: meanings[c.state] || '', text: c.stateLabel || c.state })); });
    var ready = c.readyReplicas + '/' + c.desiredReplicas + (c.shrunkFrom !== undefined ? ' (shrunk from ' + c.shrunkFrom + ')' : '');
    setCell(cells.ready, ready, function (td) { td.textContent = ready; });
    setCell(cells.connections, JSON.stringify([c.connections, c.connectionsError]), function (td) { fillConnections(td, c); });
    setCell(cells.age, c.age || '—', function (td) { td.textContent = c.age || '—'; });
    var started = c.drainStartedAt ? localTime(c.drainStartedAt) + ' (' + ago(c.drainStartedAt, now) + ')' : '—';
    setCell(cells.started, started, function (td) { td.textContent = started; });
    setCell(cells.deadline, (c.drainDeadline || '') + '|' + (c.drainLeft || ''), function (td) {
      if (!c.drainDeadline) { td.textContent = '—'; return; }
      td.appendChild(document.createTextNode(localTime(c.drainDeadline) + ' '));
      td.appendChild(el('span', { className: c.drainLeft === 'overdue' ? 'overdue' : 'muted', text: c.drainLeft === 'overdue' ? 'overdue' : c.drainLeft ? '(' + c.drainLeft + ' left)' : '' }));
    });
    setCell(cells.forecast, c.forecast || '—', function (td) { td.textContent = c.forecast || '—'; });
  }

  function updateSection(sec, app, snapshot, meanings) {
    if (changed(sec, 'summary', [app.services, app.connections, app.colors.length])) {
      clear(sec.summary);
      var serving = app.colors.filter(function (c) { return c.state === 'serving'; });
      serving.forEach(function (c) { sec.summary.appendChild(swatch(c.css, c.color)); sec.summary.appendChild(el('code', { text: c.color })); });
      if (serving.length === 0) sec.summary.appendChild(document.createTextNode('no serving color'));
      sec.summary.appendChild(document.createTextNode(' · ' + app.colors.length + (app.colors.length === 1 ? ' color' : ' colors') + ' · ' +
        (app.connections === undefined ? 'connections unknown' : app.connections + (app.connections === 1 ? ' connection' : ' connections'))));
    }
    if (changed(sec, 'services', app.services)) {
      clear(sec.services);
      app.services.forEach(function (s) {
        var byColor = {};
        app.colors.forEach(function (c) { byColor[c.color] = c; });
        var li = el('li', { 'data-service': s.name }, ['Service ', el('strong', { text: s.name }), ' → ']);
        if (s.color) { li.appendChild(swatch(byColor[s.color] && byColor[s.color].css, s.color)); li.appendChild(document.createTextNode(' ')); li.appendChild(el('code', { text: s.color })); }
        else li.appendChild(document.createTextNode('every color (no rainbow.dev/color in its selector)'));
        if (s.pendingColor) { li.appendChild(document.createTextNode(' · pending ')); li.appendChild(el('code', { className: 'pending', text: s.pendingColor })); }
        sec.services.appendChild(li);
      });
      if (app.services.length === 0) sec.services.appendChild(el('li', { className: 'muted', text: 'no Service labelled rainbow.dev/app=' + app.app }));
    }
    if (changed(sec, 'warnings', app.warnings)) {
      clear(sec.warnings);
      app.warnings.forEach(function (w) { sec.warnings.appendChild(el('li', { text: w })); });
      sec.warnings.hidden = app.warnings.length === 0;
    }
    var seen = new Set();
    app.colors.forEach(function (c, i) {
      seen.add(c.color);
      var row = sec.rows.get(c.color);
      if (!row) { row = createRow(c); sec.rows.set(c.color, row); }
      fillRow(row, c, snapshot.generatedAt, meanings);
      if (sec.tbody.children[i] !== row.tr) sec.tbody.insertBefore(row.tr, sec.tbody.children[i] || null);
    });
    sec.rows.forEach(function (row, color) {
      if (!seen.has(color)) { row.tr.remove(); sec.rows.delete(color); }
    });
    if (changed(sec, 'events', [app.events, app.eventsError])) {
      clear(sec.events);
      app.events.forEach(function (e) {
        sec.events.appendChild(el('li', { 'data-reason': e.reason }, [
          el('time', { datetime: e.at, title: localTime(e.at), text: new Date(e.at).toLocaleTimeString() + (e.count > 1 ? ' ×' + e.count : '') }),
          el('span', { className: 'reason ' + e.type, text: e.reason }),
          el('span', { className: 'msg' }, [el('span', { className: 'muted', text: e.kind + ' ' + e.object + ': ' }), e.message])
        ]));
      });
      sec.eventsNote.textContent = app.eventsError ? app.eventsError : app.events.length === 0 ? 'No rainbow Events for this app.' : '';
      sec.eventsNote.className = app.eventsError ? 'error' : 'muted';
    }
    sec.toggle.setAttribute('aria-expanded', isExpanded(app.key) ? 'true' : 'false');
    sec.body.hidden = !isExpanded(app.key);
  }

  // ---- charts ------------------------------------------------------------------------------
  function chartWidth(container) {
    return Math.max(280, container.clientWidth || (container.parentNode && container.parentNode.clientWidth) || 600);
  }

  function appendLive(app, snapshot) {
    var h = state.history.get(app.key);
    if (!h || !snapshot.generatedAt) return;
    var t = Date.parse(snapshot.generatedAt);
    if (h.t.length > 0 && t <= h.t[h.t.length - 1]) return;
    h.t.push(t);
    var now = new Map();
    app.colors.forEach(function (c) {
      if (c.connections !== undefined) now.set(c.color, { css: c.css, v: c.connections });
      else if (c.connectionsError !== undefined) now.set(c.color, { css: c.css, v: null });
    });
    now.forEach(function (x, color) {
      if (!h.series.has(color)) h.series.set(color, { css: x.css, values: h.t.slice(0, -1).map(function () { return null; }) });
    });
    h.series.forEach(function (s, color) { s.values.push(now.has(color) ? now.get(color).v : null); });
    var span = WINDOW_MS[state.windowName];
    if (span !== null) {
      var cut = 0;
      while (cut < h.t.length && h.t[cut] < t - span) cut++;
      if (cut > 0) { h.t.splice(0, cut); h.series.forEach(function (s) { s.values.splice(0, cut); }); }
    }
    h.series.forEach(function (s, color) {
      if (!s.values.some(function (v) { return v !== null; })) h.series.delete(color);
    });
  }

  function seed(app) {
    if (state.seeding.get(app.key)) return;
    var windowName = state.windowName;
    state.seeding.set(app.key, true);
    fetch('/api/series?window=' + encodeURIComponent(windowName) + '&app=' + encodeURIComponent(app.key), { headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (data) {
        state.seeding.delete(app.key);
        if (windowName !== state.windowName) return;
        var a = data.apps[app.key] || { t: [], series: [] };
        var series = new Map();
        a.series.forEach(function (s) { series.set(s.color, { css: s.css, values: s.values.slice() }); });
        state.history.set(app.key, { t: a.t.slice(), series: series });
        var sec = state.sections.get(app.key);
        var cur = state.snapshot && state.snapshot.apps.filter(function (x) { return x.key === app.key; })[0];
        if (sec && cur) updateChart(sec, cur);
      })
      .catch(function () { state.seeding.delete(app.key); });
  }

  function destroyChart(key) {
    var c = state.charts.get(key);
    if (c) { c.plot.destroy(); state.charts.delete(key); }
  }

  function updateChart(sec, app) {
    if (!isExpanded(app.key)) return;
    var h = state.history.get(app.key);
    if (!h) { seed(app); return; }
    var order = app.colors.map(function (c) { return c.color; }).filter(function (c) { return h.series.has(c); });
    h.series.forEach(function (s, color) { if (order.indexOf(color) < 0) order.push(color); });
    var labels = order.map(function (color) {
      var cur = app.colors.filter(function (c) { return c.color === color; })[0];
      var now = cur ? (cur.connections !== undefined ? cur.connections + ' now' : 'unknown now') : 'gone';
      return color + ' ' + now;
    });
    sec.caption.textContent = 'Connections per color, ' + (state.windowName === 'all' ? 'since the dashboard started' : 'last ' + state.windowName);
    sec.figure.setAttribute('aria-label', 'Chart of connections per color of ' + app.key + ', ' + (state.windowName === 'all' ? 'since the dashboard started' : 'last ' + state.windowName) + ': ' + (labels.join(', ') || 'no samples yet'));
    if (h.t.length === 0 || order.length === 0) {
      destroyChart(app.key);
      var why = h.t.length === 0 ? 'No samples yet: the first count shows here at the next sampling.' : 'No count in this window: the pods could not be asked (the Connections column says why).';
      var note = sec.plot.querySelector('.nodata');
      if (!note || note.textContent !== why) { clear(sec.plot); sec.plot.appendChild(el('p', { className: 'nodata', text: why })); }
      return;
    }
    var data = [h.t.map(function (t) { return t / 1000; })].concat(order.map(function (c) { return h.series.get(c).values; }));
    var key = order.join(',');
    var theme = currentTheme();
    var existing = state.charts.get(app.key);
    if (existing && existing.key === key && existing.theme === theme && typeof uPlot !== 'undefined') { existing.plot.setData(data); return; }
    destroyChart(app.key);
    clear(sec.plot);
    if (typeof uPlot === 'undefined') { sec.plot.appendChild(el('p', { className: 'nodata', text: 'The chart library did not load (/vendor/uPlot.iife.min.js).' })); return; }
    var axis = cssVar('--axis');
    var grid = cssVar('--grid');
    var fallback = cssVar('--muted');
    var opts = {
      width: chartWidth(sec.plot),
      height: CHART_HEIGHT,
      // The x axis spans the picked window (at least a minute for "all"), not only the samples so far.
      scales: { x: { time: true, range: function (u, min, max) { var span = (WINDOW_MS[state.windowName] || 60000) / 1000; return [Math.min(min, max - span), max]; } }, y: { range: function (u, min, max) { return [0, Math.max(1, Math.ceil((max || 0) * 1.15))]; } } },
      series: [{ label: 'time' }].concat(order.map(function (color) {
        var s = h.series.get(color);
        return { label: color, stroke: s.css || fallback, width: 2, points: { show: false }, spanGaps: false, value: function (u, v) { return v === null || v === undefined ? '—' : String(v); } };
      })),
      axes: [
        { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid }, space: 80 },
        { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] }
      ],
      legend: { show: true }
    };
    var plot = new uPlot(opts, data, sec.plot);
    state.charts.set(app.key, { plot: plot, key: key, theme: theme, container: sec.plot });
  }

  function redrawCharts() {
    if (!state.snapshot) return;
    state.snapshot.apps.forEach(function (app) {
      var sec = state.sections.get(app.key);
      if (sec) updateChart(sec, app);
    });
  }

  // ---- the whole page ----------------------------------------------------------------------
  function render(snapshot) {
    state.snapshot = snapshot;
    var meanings = {};
    snapshot.states.forEach(function (s) { meanings[s.name] = s.meaning; });
    $('scope').textContent = snapshot.scope + ' · sampling every ' + duration(snapshot.intervalMs / 1000);
    var err = $('error');
    if (snapshot.error) {
      err.hidden = false;
      err.textContent = snapshot.error + (snapshot.generatedAt ? '\nShowing the last good read, from ' + localTime(snapshot.generatedAt) + '; retrying every ' + duration(snapshot.intervalMs / 1000) + '.' : '');
    } else err.hidden = true;

    var main = $('apps');
    var seen = new Set();
    snapshot.apps.forEach(function (app, i) {
      seen.add(app.key);
      var sec = state.sections.get(app.key);
      if (!sec) { sec = createSection(app); state.sections.set(app.key, sec); }
      updateSection(sec, app, snapshot, meanings);
      if (main.children[i] !== sec.root) main.insertBefore(sec.root, main.children[i] || null);
      appendLive(app, snapshot);
      updateChart(sec, app);
    });
    state.sections.forEach(function (sec, key) {
      if (seen.has(key)) return;
      destroyChart(key);
      sec.root.remove();
      state.sections.delete(key);
      state.history.delete(key);
    });
    var empty = $('empty');
    empty.hidden = snapshot.apps.length > 0 || !snapshot.generatedAt;
    empty.textContent = 'No rainbow apps (objects labelled rainbow.dev/app) in ' + snapshot.scope + '.';
    var states = $('states');
    if (!states.firstChild) snapshot.states.forEach(function (s) {
      states.appendChild(el('dt', null, [el('span', { className: 'state state-' + s.name, text: s.name })]));
      states.appendChild(el('dd', { text: s.meaning }));
    });
    applyFilter();
    setLive(true, snapshot.generatedAt ? 'live · read ' + new Date(snapshot.generatedAt).toLocaleTimeString() : 'live · waiting for the first read');
  }

  function setLive(on, text) {
    state.live = on;
    var live = $('live');
    live.setAttribute('data-live', on ? 'yes' : 'no');
    live.textContent = text;
  }

  function connect() {
    var es = new EventSource('/api/events');
    var lost = false;
    es.onopen = function () {
      if (lost) state.history.clear(); // points were missed while away: take them from the server again
      lost = false;
    };
    es.onmessage = function (e) {
      try { render(JSON.parse(e.data)); } catch (err) { setLive(false, 'could not read an update: ' + err.message); }
    };
    es.onerror = function () {
      lost = true;
      setLive(false, 'reconnecting… (the dashboard command stopped or the connection dropped; retrying)');
    };
  }

  function start() {
    initTheme();
    initWindows();
    initControls();
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;

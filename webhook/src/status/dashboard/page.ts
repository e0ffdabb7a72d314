// The dashboard's page and style sheet, kept as strings so that they ship in dist/ with the
// compiled code (the build copies nothing else); the script is in client.ts.

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>rainbow dashboard</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/vendor/uPlot.min.css">
<link rel="stylesheet" href="/dashboard.css">
<script src="/vendor/uPlot.iife.min.js" defer></script>
<script src="/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#apps">Skip to the apps</a>
<header class="top">
  <div class="title">
    <h1><span class="logo" aria-hidden="true"></span>rainbow dashboard</h1>
    <p id="scope" class="muted">connecting…</p>
  </div>
  <div class="controls">
    <label class="filter"><span>Filter</span>
      <input id="filter" type="search" placeholder="app, namespace, color or state" autocomplete="off" spellcheck="false" aria-describedby="shown">
    </label>
    <div class="windows" role="group" aria-label="Chart window" id="windows"></div>
    <button type="button" id="expand-all">Expand all</button>
    <button type="button" id="collapse-all">Collapse all</button>
    <button type="button" id="theme" aria-pressed="false">Dark theme</button>
  </div>
</header>
<div id="status-line" class="status-line">
  <p id="live" role="status" aria-live="polite">connecting…</p>
  <p id="shown" class="muted"></p>
</div>
<p id="error" class="error" role="alert" hidden></p>
<main id="apps" tabindex="-1" aria-label="Rainbow apps"></main>
<p id="empty" class="empty" hidden></p>
<details class="legend" id="legend">
  <summary>What the states mean</summary>
  <dl id="states"></dl>
</details>
<noscript><p class="error">The dashboard draws its page with JavaScript; enable it for this address.</p></noscript>
</body>
</html>
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M1 14a7 7 0 0 1 14 0" fill="none" stroke="#e63946" stroke-width="2"/><path d="M3.5 14a4.5 4.5 0 0 1 9 0" fill="none" stroke="#f4a261" stroke-width="2"/><path d="M6 14a2 2 0 0 1 4 0" fill="none" stroke="#2a9d8f" stroke-width="2"/></svg>
`;

export const DASHBOARD_CSS = `:root {
  --bg: #f7f7f9; --panel: #ffffff; --fg: #1b1d23; --muted: #5b6270; --border: #d5d8de;
  --accent: #1f5fbf; --focus: #1f5fbf; --error-bg: #fde8e8; --error-fg: #8a1c1c; --warn: #8a5a00;
  --state-serving: #1a7f37; --state-pending: #9a6700; --state-new: #0969da; --state-draining: #bc4c00;
  --state-drained: #6e7781; --state-kept: #8250df; --state-deleting: #cf222e;
  --grid: rgba(0,0,0,.08); --axis: #5b6270;
  color-scheme: light;
}
@media (prefers-color-scheme: dark) {
  :root:not([data-theme="light"]) {
    --bg: #0f1115; --panel: #171a21; --fg: #e6e8ee; --muted: #9aa3b2; --border: #2c313c;
    --accent: #6ea8fe; --focus: #8ab4ff; --error-bg: #3b1518; --error-fg: #ffb4b4; --warn: #e3b341;
    --state-serving: #3fb950; --state-pending: #d29922; --state-new: #58a6ff; --state-draining: #f0883e;
    --state-drained: #8b949e; --state-kept: #bc8cff; --state-deleting: #ff7b72;
    --grid: rgba(255,255,255,.08); --axis: #9aa3b2;
    color-scheme: dark;
  }
}
:root[data-theme="dark"] {
  --bg: #0f1115; --panel: #171a21; --fg: #e6e8ee; --muted: #9aa3b2; --border: #2c313c;
  --accent: #6ea8fe; --focus: #8ab4ff; --error-bg: #3b1518; --error-fg: #ffb4b4; --warn: #e3b341;
  --state-serving: #3fb950; --state-pending: #d29922; --state-new: #58a6ff; --state-draining: #f0883e;
  --state-drained: #8b949e; --state-kept: #bc8cff; --state-deleting: #ff7b72;
  --grid: rgba(255,255,255,.08); --axis: #9aa3b2;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; padding: 0 16px 32px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 3px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 16px; top: 8px; background: var(--panel); padding: 4px 8px; z-index: 10; }
.muted { color: var(--muted); }
.top { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-end; justify-content: space-between; padding: 12px 0 8px; border-bottom: 1px solid var(--border); }
.top h1 { font-size: 20px; margin: 0; display: flex; align-items: center; gap: 8px; }
.top p { margin: 2px 0 0; }
.logo { width: 18px; height: 18px; border-radius: 50%; background: conic-gradient(#e63946, #f4a261, #e9c46a, #2a9d8f, #457b9d, #8e44ad, #e63946); }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.filter { display: flex; gap: 6px; align-items: center; }
input[type="search"] { min-width: 16em; padding: 5px 8px; border: 1px solid var(--border); border-radius: 6px; background: var(--panel); color: var(--fg); font: inherit; }
button { font: inherit; color: var(--fg); background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 4px 10px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: var(--panel); }
.windows { display: inline-flex; }
.windows button { border-radius: 0; margin-left: -1px; }
.windows button:first-child { border-radius: 6px 0 0 6px; margin-left: 0; }
.windows button:last-child { border-radius: 0 6px 6px 0; }
.status-line { display: flex; gap: 16px; justify-content: space-between; margin: 6px 0; }
.status-line p { margin: 0; }
#live::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--state-drained); vertical-align: 1px; }
#live[data-live="yes"]::before { background: var(--state-serving); }
#live[data-live="no"]::before { background: var(--state-deleting); }
.error { background: var(--error-bg); color: var(--error-fg); padding: 8px 12px; border-radius: 6px; white-space: pre-wrap; }
.empty { color: var(--muted); padding: 24px 0; }
main { display: flex; flex-direction: column; gap: 10px; }
.app { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; }
.app > h2 { margin: 0; font-size: 15px; }
.app .toggle { width: 100%; text-align: left; border: 0; border-radius: 8px; padding: 8px 12px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; background: transparent; }
.app .toggle::before { content: "\\25B8"; display: inline-block; transition: transform .1s; color: var(--muted); }
.app .toggle[aria-expanded="true"]::before { transform: rotate(90deg); }
.app .name { font-weight: 600; }
.app .summary { color: var(--muted); font-weight: normal; display: inline-flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.app .body { padding: 0 12px 12px; }
.app .body[hidden] { display: none; }
.services, .warnings { list-style: none; padding: 0; margin: 4px 0 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.warnings li { color: var(--warn); }
.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; border: 1px solid var(--border); vertical-align: -2px; }
.swatch.none { background-image: repeating-linear-gradient(45deg, var(--border) 0 3px, transparent 3px 6px); }
table.colors { border-collapse: collapse; width: 100%; }
table.colors th, table.colors td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--border); white-space: nowrap; }
table.colors th { font-weight: 600; color: var(--muted); font-size: 12px; }
table.colors td.wrap { white-space: normal; }
table.colors td.num, table.colors th.num { text-align: right; }
.state { font-weight: 600; }
.state-serving { color: var(--state-serving); } .state-pending { color: var(--state-pending); } .state-new { color: var(--state-new); }
.state-draining { color: var(--state-draining); } .state-drained { color: var(--state-drained); } .state-kept { color: var(--state-kept); }
.state-deleting { color: var(--state-deleting); }
.unknown { color: var(--warn); cursor: help; text-decoration: underline dotted; }
.overdue { color: var(--state-deleting); font-weight: 600; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.chart { margin: 10px 0 0; }
.chart figcaption { color: var(--muted); font-size: 12px; margin-bottom: 2px; }
.chart .plot { min-height: 170px; }
.chart .nodata { color: var(--muted); padding: 12px 0; }
.u-legend { color: var(--fg); font-size: 12px; }
.u-legend .u-marker { border-radius: 2px; }
.app h3 { font-size: 13px; margin: 12px 0 4px; color: var(--muted); }
ol.events { list-style: none; padding: 0; margin: 0; font-size: 13px; }
ol.events li { display: grid; grid-template-columns: 10em 9em 1fr; gap: 8px; padding: 2px 0; border-bottom: 1px dashed var(--border); }
ol.events .Warning { color: var(--state-deleting); }
ol.events .msg { overflow-wrap: anywhere; }
.legend { margin-top: 16px; }
.legend dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
.legend dd { margin: 0; }
@media (max-width: 700px) { ol.events li { grid-template-columns: 1fr; } table.colors td, table.colors th { white-space: normal; } }
`;

#include "creditwatch/server/status_page.hpp"

namespace creditwatch::server {

const std::string& status_page_html() {
  static const std::string page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>creditwatch</title>
<style>
  :root { --ok:#1a7f37; --warning:#bf8700; --critical:#cf222e; --unknown:#8250df; --fg:#1f2328; --muted:#656d76; --bg:#f6f8fa; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
  header { padding:16px 20px; display:flex; justify-content:space-between; align-items:baseline; flex-wrap:wrap; gap:8px; }
  h1 { font-size:20px; margin:0; }
  #updated { color:var(--muted); font-size:13px; }
  main { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:16px; padding:0 20px 20px; }
  .card { background:#fff; border:1px solid #d0d7de; border-radius:8px; padding:14px 16px; border-top:4px solid var(--muted); }
  .card.OK { border-top-color:var(--ok); } .card.WARNING { border-top-color:var(--warning); }
  .card.CRITICAL { border-top-color:var(--critical); } .card.UNKNOWN { border-top-color:var(--unknown); }
  .title { display:flex; justify-content:space-between; align-items:center; gap:8px; }
  .title h2 { font-size:17px; margin:0; word-break:break-all; }
  .badge { font-size:12px; font-weight:600; padding:2px 8px; border-radius:10px; color:#fff; background:var(--muted); }
  .badge.OK { background:var(--ok); } .badge.WARNING { background:var(--warning); }
  .badge.CRITICAL { background:var(--critical); } .badge.UNKNOWN { background:var(--unknown); }
  .provider { color:var(--muted); font-size:13px; }
  .balance { font-size:26px; font-weight:600; margin:6px 0; }
  dl { display:grid; grid-template-columns:auto 1fr; gap:2px 12px; margin:8px 0; font-size:14px; }
  dt { color:var(--muted); } dd { margin:0; text-align:right; }
  .alerts { margin:6px 0 0; padding:0; list-style:none; font-size:13px; }
  .alerts li { padding:3px 6px; border-radius:4px; margin-top:3px; background:#fff8c5; }
  .alerts li.critical { background:#ffebe9; }
  .error { color:var(--critical); font-size:13px; margin-top:6px; }
  svg.chart { width:100%; height:140px; display:block; margin-top:8px; }
  .empty { color:var(--muted); padding:40px 20px; }
</style>
</head>
<body>
<header><h1>creditwatch</h1><span id="updated">loading…</span></header>
<main id="cards"></main>
<script>
"use strict";
const fmt = (v, d) => (v === null || v === undefined) ? "–" : Number(v).toLocaleString(undefined, {minimumFractionDigits: d, maximumFractionDigits: d});
function runwayText(days) {
  if (days === null || days === undefined) return "no spend yet";
  if (days >= 1) return fmt(days, 1) + " days";
  if (days * 24 >= 1) return fmt(days * 24, 1) + " hours";
  return fmt(days * 1440, 0) + " minutes";
}
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function chart(samples, account) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 320 140");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "balance history of " + account.account);
  if (!samples.length) return svg;
  const t0 = samples[0].ts_ms;
  let t1 = samples[samples.length - 1].ts_ms;
  const exhaust = account.exhausted_at ? Date.parse(account.exhausted_at) : null;
  // Show the projection to zero, but never let a far-off date squash the history.
  const span = Math.max(t1 - t0, 1);
  const projectionEnd = exhaust ? Math.min(exhaust, t1 + span) : t1;
  const tMax = Math.max(projectionEnd, t1 + 1);
  const vMax = Math.max(...samples.map(s => s.balance), 0) * 1.05 || 1;
  const x = t => 4 + (t - t0) / (tMax - t0) * 312;
  const y = v => 132 - Math.max(v, 0) / vMax * 124;
  const line = (points, cls, attrs) => {
    const p = document.createElementNS(NS, "polyline");
    p.setAttribute("points", points.map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" "));
    p.setAttribute("class", cls);
    p.setAttribute("fill", "none");
    for (const [k, v] of Object.entries(attrs)) p.setAttribute(k, v);
    svg.appendChild(p);
  };
  const axis = document.createElementNS(NS, "line");
  Object.entries({x1: 4, x2: 316, y1: 132, y2: 132, stroke: "#d0d7de"}).forEach(([k, v]) => axis.setAttribute(k, v));
  svg.appendChild(axis);
  line(samples.map(s => [s.ts_ms, s.balance]), "history", {stroke: "#0969da", "stroke-width": 2});
  if (exhaust && account.burn_per_day) {
    const last = samples[samples.length - 1];
    const endValue = projectionEnd >= exhaust ? 0 : Math.max(last.balance - account.burn_per_day * (projectionEnd - last.ts_ms) / 86400000, 0);
    line([[last.ts_ms, last.balance], [projectionEnd, endValue]], "projection", {stroke: "#cf222e", "stroke-width": 2, "stroke-dasharray": "5 4"});
  }
  return svg;
}
async function fetchJson(url) {
  const r = await fetch(url, {cache: "no-store"});
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return r.json();
}
async function render() {
  const accounts = await fetchJson("api/v1/accounts");
  const since = new Date(Date.now() - 7 * 86400000).toISOString().replace(/\.\d+Z$/, "Z");
  const cards = document.getElementById("cards");
  const fresh = [];
  for (const a of accounts.accounts) {
    const card = el("section", {class: "card " + a.state, "data-account": a.account});
    const title = el("div", {class: "title"});
    title.appendChild(el("h2", {}, a.account));
    title.appendChild(el("span", {class: "badge " + a.state}, a.state));
    card.appendChild(title);
    card.appendChild(el("div", {class: "provider"}, a.provider));
    card.appendChild(el("div", {class: "balance"}, a.balance === null ? "–" : fmt(a.balance, 2) + " " + (a.currency || "")));
    const dl = el("dl");
    const row = (k, v) => { dl.appendChild(el("dt", {}, k)); dl.appendChild(el("dd", {}, v)); };
    row("Burn per day", a.burn_per_day === null ? "–" : fmt(a.burn_per_day, 2) + " " + (a.currency || ""));
    row("Runway (P50)", runwayText(a.runway_days));
    row("Runway (P10)", runwayText(a.runway_p10_days));
    row("Exhaustion", a.exhausted_at ? new Date(a.exhausted_at).toUTCString() : "–");
    row("Recommended top-up", a.recommended_topup ? fmt(a.recommended_topup, 2) + " " + (a.currency || "") : "–");
    card.appendChild(dl);
    if (a.error) card.appendChild(el("div", {class: "error"}, a.error.kind + ": " + a.error.message));
    const list = el("ul", {class: "alerts"});
    for (const f of a.firing) list.appendChild(el("li", {class: f.severity}, f.severity + " · " + f.rule + ": " + f.summary));
    card.appendChild(list);
    try {
      const s = await fetchJson("api/v1/accounts/" + encodeURIComponent(a.account) + "/samples?since=" + since);
      card.appendChild(chart(s.samples.filter(x => !a.currency || x.currency === a.currency), a));
    } catch (e) {
      card.appendChild(el("div", {class: "error"}, String(e)));
    }
    fresh.push(card);
  }
  cards.replaceChildren(...fresh);
  if (!fresh.length) cards.replaceChildren(el("div", {class: "empty"}, "No accounts configured."));
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}
function refresh() {
  render().catch(e => { document.getElementById("updated").textContent = "update failed: " + e.message; });
}
refresh();
setInterval(refresh, 30000);
</script>
</body>
</html>
)html";
  return page;
}

}  // namespace creditwatch::server

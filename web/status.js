"use strict";
const fmt = (v, d) => (v === null || v === undefined) ? "–" : Number(v).toLocaleString(undefined, {minimumFractionDigits: d, maximumFractionDigits: d});
function runwayText(days) {
  if (days === null || days === undefined) return "no spend yet";
  if (days <= 0) return "none left";
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
// UTC, minute precision: "2026-05-01 14:05 UTC" (or "14:05 UTC" without the date).
const pad = n => String(n).padStart(2, "0");
function utc(ms, withDate) {
  const d = new Date(ms);
  const time = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  return withDate ? d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + time : time;
}
function svgEl(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
// Balance history on the left (time to scale), then, when the balance is falling, the
// projection to zero on the right, drawn over its own time scale so that a runway of
// months stays readable beside a history of hours. A dashed line marks "now".
function chart(samples, account) {
  const W = 320, H = 124, L = 4, R = 316, TOP = 16, BOTTOM = 104;
  const svg = svgEl("svg", {class: "chart", viewBox: "0 0 " + W + " " + H, role: "img",
                            "aria-label": "balance history of " + account.account});
  svg.appendChild(svgEl("line", {class: "axis", x1: L, x2: R, y1: BOTTOM, y2: BOTTOM}));
  if (!samples.length) {
    svg.appendChild(svgEl("text", {x: W / 2, y: BOTTOM / 2, "text-anchor": "middle"}, "no samples yet"));
    return svg;
  }
  const first = samples[0], last = samples[samples.length - 1];
  const exhaust = account.exhausted_at ? Date.parse(account.exhausted_at) : null;
  const projecting = exhaust !== null && account.burn_per_day > 0 && exhaust > last.ts_ms;
  const split = projecting ? L + (R - L) * 0.68 : R;
  const peak = Math.max(...samples.map(s => s.balance), 0);
  const vMax = peak * 1.1 || 1;
  const span = last.ts_ms - first.ts_ms;
  const x = t => span > 0 ? L + (t - first.ts_ms) / span * (split - L) : split;
  const y = v => BOTTOM - Math.max(v, 0) / vMax * (BOTTOM - TOP);
  const points = pts => pts.map(([px, py]) => px.toFixed(1) + "," + py.toFixed(1)).join(" ");
  const longSpan = span > 86400000;
  const unit = account.currency ? " " + account.currency : "";

  svg.appendChild(svgEl("text", {x: L, y: TOP - 6}, fmt(peak, 2) + unit));
  svg.appendChild(svgEl("text", {x: L, y: H - 4}, utc(first.ts_ms, longSpan)));
  if (projecting) {
    svg.appendChild(svgEl("line", {class: "now", x1: split, x2: split, y1: TOP, y2: BOTTOM}));
    svg.appendChild(svgEl("text", {x: split, y: TOP - 6, "text-anchor": "middle"}, "now"));
    svg.appendChild(svgEl("polyline", {class: "projection", fill: "none",
                                       points: points([[split, y(last.balance)], [R, BOTTOM]])}));
    svg.appendChild(svgEl("text", {x: R, y: H - 4, "text-anchor": "end"}, "0 at " + utc(exhaust, true)));
  } else {
    svg.appendChild(svgEl("text", {x: R, y: H - 4, "text-anchor": "end"}, utc(last.ts_ms, longSpan)));
  }
  svg.appendChild(svgEl("polyline", {class: "history", fill: "none",
                                     points: points(samples.map(s => [x(s.ts_ms), y(s.balance)]))}));
  svg.appendChild(svgEl("circle", {class: "latest", cx: x(last.ts_ms), cy: y(last.balance), r: 2.5}));
  return svg;
}
async function fetchJson(url) {
  const r = await fetch(url, {cache: "no-store"});
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return r.json();
}
// Every account: /api/v1/accounts answers a page at a time (at most 1,000 accounts each).
async function allAccounts() {
  const first = await fetchJson("api/v1/accounts?limit=1000");
  for (let page = first; page.next_cursor; ) {
    page = await fetchJson("api/v1/accounts?limit=1000&cursor=" + encodeURIComponent(page.next_cursor));
    first.accounts.push(...page.accounts);
  }
  return first;
}
async function render() {
  const accounts = await allAccounts();
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
    const known = a.balance !== null;  // no balance read yet: no runway to speak of
    row("Runway (P50)", known ? runwayText(a.runway_days) : "–");
    row("Runway (P10)", known ? runwayText(a.runway_p10_days) : "–");
    row("Exhaustion", a.exhausted_at ? utc(Date.parse(a.exhausted_at), true) : "–");
    row("Recommended top-up", a.recommended_topup ? fmt(a.recommended_topup, 2) + " " + (a.currency || "") : "–");
    if (accounts.replicated) row("Probed by", a.probed_by || "nobody yet");
    card.appendChild(dl);
    if (a.error) card.appendChild(el("div", {class: "error"}, a.error.kind + ": " + a.error.message));
    const list = el("ul", {class: "alerts"});
    for (const f of a.firing) {
      const text = f.summary.startsWith(f.rule) ? f.summary : f.rule + ": " + f.summary;
      list.appendChild(el("li", {class: f.severity, title: f.rule}, f.severity + " · " + text));
    }
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
  const now = new Date();
  document.getElementById("updated").textContent =
      "updated " + pad(now.getUTCHours()) + ":" + pad(now.getUTCMinutes()) + ":" + pad(now.getUTCSeconds()) + " UTC";
}
function refresh() {
  render().catch(e => { document.getElementById("updated").textContent = "update failed: " + e.message; });
}
refresh();
setInterval(refresh, 30000);

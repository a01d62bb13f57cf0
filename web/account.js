// The account page at /accounts/NAME: its figures, the balance history (a day to a year,
// from the rollups via .../series) with the forecast band P10..P50 down to zero, daily spend
// as bars, alerts, probes and settings (secrets redacted by the API). Charts are uPlot,
// embedded under assets/vendor/.
"use strict";

const name = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
const api = "../api/v1/accounts/" + encodeURIComponent(name);
const ranges = [
  {key: "1d", label: "Day", days: 1}, {key: "7d", label: "Week", days: 7}, {key: "30d", label: "Month", days: 30},
  {key: "90d", label: "Quarter", days: 90}, {key: "365d", label: "Year", days: 365},
];
const defaultRange = "7d";
const charts = {};

function css(variable) {
  return getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
}

function rangeNow() {
  const key = new URLSearchParams(location.search).get("range") || defaultRange;
  return ranges.find(r => r.key === key) || ranges.find(r => r.key === defaultRange);
}

function iso(ms) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

// A step the series endpoint takes (whole hours, or under an hour a multiple of the
// account's interval) giving about 300 points over `seconds`.
function stepFor(seconds, interval) {
  const wanted = seconds / 300;
  let step = wanted >= 3600 || !interval || interval >= 3600
      ? Math.ceil(wanted / 3600) * 3600 : Math.ceil(Math.max(wanted, interval) / interval) * interval;
  if (step >= 3600) step = Math.ceil(step / 3600) * 3600;
  return step % 3600 === 0 ? step / 3600 + "h" : step + "s";
}

function renderRanges() {
  const box = document.getElementById("ranges");
  const current = rangeNow();
  box.replaceChildren(...ranges.map(r => {
    const b = cw.el("button", {type: "button", "aria-pressed": String(r === current)}, r.label);
    b.addEventListener("click", () => {
      const p = new URLSearchParams(location.search);
      if (r.key === defaultRange) p.delete("range"); else p.set("range", r.key);
      history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
      renderRanges();
      refresh();
    });
    return b;
  }));
}

function figure(term, value, attrs) {
  return cw.el("div", {class: "figure", ...attrs}, cw.el("dt", {}, term), cw.el("dd", {}, value));
}

// How the account's own earlier forecasts fared (forecast_record, null until there is enough
// history): how often spend outran the P10 runway and the median. Calibrated: 10 % and 50 %.
function recordFigure(a) {
  const r = a.forecast_record;
  if (!r) return figure("Forecast record", "not enough history yet", {class: "figure wide", "data-record": "none"});
  const percent = share => cw.fmt(share * 100, 0) + " %";
  const text = "spend outran the P10 in " + percent(r.p10_coverage) + " of " + cw.fmt(r.forecasts_checked, 0) +
      " earlier forecasts (calibrated: 10 %), the median in " + percent(r.p50_coverage) + " (calibrated: 50 %)";
  return figure("Forecast record", text, {class: "figure wide", "data-record": "known"});
}

function renderFigures(a) {
  document.getElementById("name").textContent = a.account;
  document.title = a.account + " · creditwatch";
  document.getElementById("state").replaceChildren(cw.stateBadge(a.state));
  const known = a.balance !== null;
  document.getElementById("figures").replaceChildren(
      figure("Balance", cw.money(a.balance, a.currency)),
      figure("Burn per day", cw.money(a.burn_per_day, a.currency)),
      figure("Runway P50", known ? cw.runway(a.runway_days) : "–"),
      figure("Runway P10", known ? cw.runway(a.runway_p10_days) : "–"),
      figure("Exhaustion (P50)", a.exhausted_at ? cw.utc(Date.parse(a.exhausted_at)) : "–"),
      figure("Recommended top-up", a.recommended_topup ? cw.money(a.recommended_topup, a.currency) : "–"),
      recordFigure(a));
}

// The forecast from the last reading: P50 reaches zero at exhausted_at, P10 after
// runway_p10_days. Drawn no further than `horizon` (so a runway of years does not flatten a
// day of history); both lines have a value at every forecast time so the band between them
// fills.
function forecast(a, lastMs, lastBalance, horizonMs) {
  if (!a.exhausted_at || !(a.burn_per_day > 0) || !(lastBalance > 0)) return null;
  const p50End = Date.parse(a.exhausted_at);
  const p10End = a.runway_p10_days !== null ? lastMs + a.runway_p10_days * 86400000 : p50End;
  if (!(p50End > lastMs)) return null;
  const at = (end, t) => end <= lastMs ? 0 : Math.max(0, lastBalance * (1 - (t - lastMs) / (end - lastMs)));
  const times = [...new Set([lastMs, Math.min(p10End, horizonMs), Math.min(p50End, horizonMs)])].sort((x, y) => x - y);
  return {times, p50: times.map(t => at(p50End, t)), p10: times.map(t => at(Math.max(p10End, lastMs + 1), t)), p10End, p50End};
}

function chartWidth(id) {
  return Math.max(280, document.getElementById(id).clientWidth);
}

const utcDate = ts => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");

function drawBalance(a, series, range) {
  const box = document.getElementById("balance-chart");
  const points = series.points.filter(p => p.readings > 0);
  const xs = points.map(p => p.ts_ms);
  const balance = points.map(p => p.close);
  const deposits = points.map(p => p.deposits > 0 ? p.close : null);
  const lastMs = a.sampled_at ? Date.parse(a.sampled_at) : (xs.length ? xs[xs.length - 1] : Date.now());
  const lastBalance = a.balance !== null ? a.balance : (balance.length ? balance[balance.length - 1] : null);
  const f = forecast(a, lastMs, lastBalance, lastMs + range.days * 86400000);
  // One x axis for all: the history, then the reading the forecast starts from, then its ends.
  const rows = xs.map((x, i) => [x, balance[i], deposits[i], null, null]);
  if (f) {
    rows.push([lastMs, lastBalance, null, null, null]);
    f.times.forEach((t, i) => rows.push([t, null, null, f.p50[i], f.p10[i]]));
  }
  rows.sort((x, y) => x[0] - y[0]);
  const merged = [];
  for (const r of rows) {
    const last = merged[merged.length - 1];
    if (last && last[0] === r[0]) {
      for (let i = 1; i < r.length; ++i) if (r[i] !== null) last[i] = r[i];
    } else {
      merged.push(r.slice());
    }
  }
  const data = [0, 1, 2, 3, 4].map(i => merged.map(r => i === 0 ? r[0] / 1000 : r[i]));
  const value = (u, v) => cw.money(v, a.currency);
  const opts = {
    width: chartWidth("balance-chart"), height: 280, tzDate: utcDate,
    cursor: {drag: {x: true, y: false}},  // drag to zoom in, double-click to zoom out
    scales: {y: {range: (u, min, max) => [0, Math.max(max, 1) * 1.08]}},
    axes: [{stroke: css("--muted"), grid: {stroke: css("--line")}},
           {stroke: css("--muted"), grid: {stroke: css("--line")}, size: 70}],
    series: [
      {label: "time (UTC)"},
      {label: "balance", stroke: css("--history"), width: 2, value},
      {label: "deposit", stroke: css("--ok"), width: 0, points: {show: true, size: 9, fill: css("--ok")}, value},
      {label: "forecast P50", stroke: css("--critical"), width: 2, dash: [6, 4], spanGaps: true, value},
      {label: "forecast P10", stroke: css("--critical"), width: 1, dash: [2, 3], spanGaps: true, value},
    ],
    bands: f ? [{series: [3, 4], fill: css("--band")}] : [],
  };
  if (charts.balance) charts.balance.destroy();
  box.replaceChildren();
  charts.balance = new uPlot(opts, data, box);
  box.dataset.points = String(points.length);
  box.dataset.band = f ? "p10-p50" : "none";
  const note = document.getElementById("forecast-note");
  if (f) {
    note.textContent = "Forecast band P10 to P50: zero between " + cw.utc(f.p10End) + " (P10) and " + cw.utc(f.p50End) +
        " (P50)" + (a.recommended_topup ? "; recommended top-up " + cw.money(a.recommended_topup, a.currency) : "") + ".";
  } else if (!points.length) {
    note.textContent = "No readings in this range yet.";
  } else {
    note.textContent = a.note || "No spend to project.";
  }
}

// Over the whole range asked (from..to), so a few days of bars keep their width and place.
function drawSpend(a, series) {
  const box = document.getElementById("spend-chart");
  const points = series.points;
  const data = [points.map(p => p.ts_ms / 1000), points.map(p => p.readings > 0 ? p.spend : null)];
  const opts = {
    width: chartWidth("spend-chart"), height: 180, tzDate: utcDate,
    scales: {x: {time: true, range: () => [Date.parse(series.from) / 1000 - 43200, Date.parse(series.to) / 1000 + 43200]},
             y: {range: (u, min, max) => [0, Math.max(max, 0.01) * 1.1]}},
    axes: [{stroke: css("--muted"), grid: {show: false}},
           {stroke: css("--muted"), grid: {stroke: css("--line")}, size: 70}],
    series: [
      {label: "day (UTC)", value: (u, v) => v === null ? "–" : cw.utc(v * 1000, true)},
      {label: "spend", stroke: css("--bar"), fill: css("--bar"), paths: uPlot.paths.bars({size: [0.7, 40]}),
       points: {show: false}, value: (u, v) => cw.money(v, a.currency)},
    ],
  };
  if (charts.spend) charts.spend.destroy();
  box.replaceChildren();
  charts.spend = new uPlot(opts, data, box);
  box.dataset.points = String(points.length);
}

// Silence (for a chosen time) or acknowledge one firing alert, with an optional comment; a
// silenced one can have its silence ended. Each button reports a refusal next to itself.
function alertControls(a, f) {
  const box = cw.el("span", {class: "alert-controls"});
  const comment = cw.el("input", {type: "text", class: "comment", placeholder: "comment", "aria-label": "comment for " + f.rule});
  const hours = cw.el("select", {"aria-label": "silence for"},
                      ...["1h", "2h", "8h", "24h", "72h"].map(d => cw.el("option", {value: d, selected: d === "2h"}, d)));
  const problem = cw.el("span", {class: "error", role: "alert"});
  const act = (label, run) => {
    const button = cw.el("button", {type: "button"}, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      problem.textContent = "";
      try {
        await run();
        render().catch(e => { problem.textContent = e.message; });
      } catch (e) {
        problem.textContent = e.message;
        button.disabled = false;
      }
    });
    return button;
  };
  const note = () => comment.value.trim();
  if (f.silenced && f.silenced_by && !String(f.silenced_by).startsWith("maintenance:")) {
    box.append(act("End silence", () => cw.send("DELETE", "../api/v1/silences/" + encodeURIComponent(f.silenced_by))));
  } else if (!f.silenced) {
    box.append(hours, act("Silence", () => cw.send("POST", "../api/v1/silences", {
      matchers: {account: a.account, rule: f.rule}, duration: hours.value,
      comment: note() || "silenced from the account page", created_by: "web"})));
  }
  if (!f.acknowledged) {
    box.append(act("Acknowledge", () => cw.send("POST", "../api/v1/alerts/" + encodeURIComponent(a.account) + "/" +
                                                    encodeURIComponent(f.rule) + "/ack", {by: "web", comment: note()})));
  }
  box.append(comment, problem);
  return box;
}

function renderAlerts(a) {
  const list = document.getElementById("alerts");
  const items = [];
  for (const f of cw.firingWithMarks(a)) {
    items.push(cw.el("li", {"data-rule": f.rule}, cw.stateBadge(f.severity === "critical" ? "CRITICAL" : "WARNING"),
                     " firing · ", f.summary || f.rule, " ", cw.marks(f), alertControls(a, f)));
  }
  for (const h of a.alert_history || []) {
    if (h.state === "firing" && (a.firing || []).some(f => f.rule === h.rule)) continue;
    items.push(cw.el("li", {}, h.rule + " " + h.state + " (" + h.severity + ") since " + cw.utc(Date.parse(h.since)) +
                                   (h.last_notified ? ", last notified " + cw.utc(Date.parse(h.last_notified)) : "")));
  }
  if (!items.length) items.push(cw.el("li", {class: "muted"}, "No alerts."));
  list.replaceChildren(...items);
}

function renderProbes(a) {
  const items = [];
  if (a.error) items.push(cw.el("li", {class: "error"}, "latest probe failed: " + a.error.kind + ": " + a.error.message));
  const p = a.last_probe;
  if (p) {
    items.push(cw.el("li", {}, "last probe " + cw.utc(Date.parse(p.at)) + ": " + p.outcome +
                                   (p.http_status ? " (HTTP " + p.http_status + ")" : "") +
                                   " in " + cw.fmt(p.latency_seconds * 1000, 0) + " ms" + (p.message ? " · " + p.message : "")));
  }
  if (a.probe_counts) {
    items.push(cw.el("li", {}, cw.fmt(a.probe_counts.ok, 0) + " probes answered, " + cw.fmt(a.probe_counts.failed, 0) + " failed"));
  }
  if (a.sampled_at) items.push(cw.el("li", {}, "last reading " + cw.utc(Date.parse(a.sampled_at))));
  if (!items.length) items.push(cw.el("li", {class: "muted"}, "No probes yet."));
  document.getElementById("probes").replaceChildren(...items);
}

function renderSettings(a) {
  const s = a.settings || {};
  const box = document.getElementById("settings");
  box.replaceChildren();
  const row = (k, v) => { if (v !== undefined && v !== null && v !== "") box.append(cw.el("dt", {}, k), cw.el("dd", {}, String(v))); };
  row("Provider", a.provider);
  row("Base URL", s.base_url);
  row("API key", s.api_key);
  row("Currency or unit", s.currency);
  row("Interval", s.interval);
  row("Timeout", s.timeout);
  row("Burn window", s.burn_window);
  row("Warn below", s.warn_days !== undefined ? s.warn_days + " days of runway" : null);
  row("Critical below", s.critical_days !== undefined ? s.critical_days + " days of runway" : null);
  row("Top-up target", s.target_days !== undefined ? s.target_days + " days" : null);
  row("Top-up lead time", s.topup_lead_time);
  row("Minimum balance", s.min_balance);
  row("Warning balance", s.min_balance_warning);
  const ofWhat = s.percent_of ? " of " + s.percent_of : "";
  row("Warning level", s.warn_percent_left ? s.warn_percent_left + " % left" + ofWhat : null);
  row("Critical level", s.critical_percent_left ? s.critical_percent_left + " % left" + ofWhat : null);
  row("Notify", s.notify && s.notify.length ? s.notify.join(", ") : "every notifier");
  row("Labels", Object.entries(a.labels || {}).map(([k, v]) => k + ":" + v).join(", "));
  if (a.probed_by) row("Probed by", a.probed_by);
}

async function render() {
  const range = rangeNow();
  const a = await cw.json(api);
  renderFigures(a);
  const intervalSeconds = (a.settings && a.settings.interval_seconds) || 0;
  const now = Date.now();
  const span = range.days * 86400;
  const spendDays = Math.max(range.days, 14);
  const [history, spend] = await Promise.all([
    cw.json(api + "/series?from=" + iso(now - span * 1000) + "&step=" + stepFor(span, intervalSeconds)),
    cw.json(api + "/series?from=" + iso(now - spendDays * 86400000) + "&step=24h"),
  ]);
  drawBalance(a, history, range);
  drawSpend(a, spend);
  renderAlerts(a);
  renderProbes(a);
  renderSettings(a);
  document.getElementById("problem").hidden = true;
  cw.stamp("updated");
  if (!document.body.dataset.renderedMs) document.body.dataset.renderedMs = Math.round(performance.now());
}

function refresh() {
  render().catch(e => {
    const problem = document.getElementById("problem");
    problem.textContent = "Could not load " + name + ": " + e.message;
    problem.hidden = false;
    document.getElementById("updated").textContent = "update failed";
  });
}

document.getElementById("name").textContent = name;
renderRanges();
refresh();
setInterval(refresh, 60000);
let resizing = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    for (const [id, c] of [["balance-chart", charts.balance], ["spend-chart", charts.spend]]) {
      if (c) c.setSize({width: chartWidth(id), height: c.height});
    }
  }, 150);
});

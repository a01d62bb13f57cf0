// The fleet view at /: counts by state, totals per currency and one table of accounts, a
// page at a time. The URL holds the view (q, state, label, group, sort, limit, cursor), so a link
// shows what its sender saw; only the summary and the visible page are fetched, every 30 s.
"use strict";

// Columns: `sort` is the API's sort key (absent: not sortable); `first` the direction a
// first click sorts in (the worst first where that means something).
const columns = [
  {title: "State", sort: "state", first: "-", cell: a => cw.stateBadge(a.state)},
  {title: "Name", sort: "name", first: "", cls: "name",
   cell: a => cw.el("a", {href: "accounts/" + encodeURIComponent(a.account)}, a.account)},
  {title: "Provider", sort: "provider", first: "", cell: a => a.provider, narrow: true},
  {title: "Labels", cell: labels, narrow: true},
  {title: "Balance", sort: "balance", first: "", num: true, cell: a => cw.money(a.balance, a.currency)},
  {title: "Burn / day", sort: "burn", first: "-", num: true, cell: a => cw.money(a.burn_per_day, a.currency)},
  {title: "Runway P50", sort: "runway", first: "", num: true, cell: a => a.balance === null ? "–" : cw.runway(a.runway_days)},
  {title: "Runway P10", sort: "runway_p10", first: "", num: true, narrow: true,
   cell: a => a.balance === null ? "–" : cw.runway(a.runway_p10_days)},
  {title: "Exhaustion", sort: "exhausts", first: "", cell: a => a.exhausted_at ? cw.utc(Date.parse(a.exhausted_at)) : "–"},
  {title: "Firing alerts", sort: "alerts", first: "-", cls: "alerts-cell", cell: alertsText},
];
const defaultSort = "runway";
const defaultLimit = "100";

function labels(a) {
  const box = cw.el("span", {class: "labels"});
  for (const [k, v] of Object.entries(a.labels || {})) box.append(cw.el("span", {class: "label"}, k + ":" + v));
  return box;
}

function alertsText(a) {
  const firing = cw.firingWithMarks(a);
  if (!firing.length) return a.error ? cw.el("span", {class: "error"}, a.error.kind) : "";
  return firing.map(f => f.severity + " · " + f.rule + (f.silenced ? " (silenced)" : f.acknowledged ? " (ack)" : "")).join(", ");
}

// The view as the URL says: filters, sort, page size and the page's cursor.
function view() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") || "", state: p.get("state") || "", label: p.get("label") || "", group: p.get("group") || "",
    sort: p.get("sort") || defaultSort, limit: p.get("limit") || defaultLimit, cursor: p.get("cursor") || "",
  };
}

function urlOf(v) {
  const p = new URLSearchParams();
  if (v.q) p.set("q", v.q);
  if (v.state) p.set("state", v.state);
  if (v.label) p.set("label", v.label);
  if (v.group) p.set("group", v.group);
  if (v.sort !== defaultSort) p.set("sort", v.sort);
  if (v.limit !== defaultLimit) p.set("limit", v.limit);
  if (v.cursor) p.set("cursor", v.cursor);
  const text = p.toString();
  return location.pathname + (text ? "?" + text : "");
}

// Changes the view: a new URL (a history entry when paging, so Back returns) and a fetch.
function go(changes, push) {
  const next = Object.assign(view(), changes);
  // A new filter or order starts at its top; grouping only redraws the same page.
  if (!("cursor" in changes) && !("group" in changes)) next.cursor = "";
  const depth = (history.state && history.state.depth) || 0;
  if (push) history.pushState({depth: depth + 1}, "", urlOf(next));
  else history.replaceState({depth: changes.cursor === "" && "cursor" in changes ? 0 : depth}, "", urlOf(next));
  refresh();
}

function header() {
  const v = view();
  const current = v.sort.replace(/^-/, "");
  const descending = v.sort.startsWith("-");
  const row = document.getElementById("columns");
  row.replaceChildren();
  for (const c of columns) {
    const th = cw.el("th", {scope: "col", class: [c.num ? "num" : "", c.narrow ? "hide-narrow" : ""].join(" ").trim() || null});
    if (!c.sort) {
      th.textContent = c.title;
    } else {
      if (c.sort === current) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const button = cw.el("button", {type: "button", title: "Sort by " + c.title.toLowerCase()}, c.title);
      button.addEventListener("click", () => {
        const again = c.sort === current;
        const direction = again ? (descending ? "" : "-") : c.first;
        go({sort: direction + c.sort});
      });
      th.append(button);
    }
    row.append(th);
  }
}

function renderCounts(summary) {
  const v = view();
  const list = document.getElementById("counts");
  list.replaceChildren();
  const all = cw.el("a", {href: urlOf(Object.assign({}, v, {state: "", cursor: ""})), "aria-current": v.state ? null : "true"},
                    cw.el("span", {class: "n"}, cw.fmt(summary.accounts, 0)), "accounts");
  list.append(cw.el("li", {}, all));
  for (const state of ["CRITICAL", "WARNING", "UNKNOWN", "OK"]) {
    const key = state.toLowerCase();
    const link = cw.el("a", {href: urlOf(Object.assign({}, v, {state: key, cursor: ""})),
                             "aria-current": v.state === key ? "true" : null},
                       cw.el("span", {class: "n"}, cw.fmt((summary.states || {})[state] || 0, 0)), cw.stateBadge(state));
    list.append(cw.el("li", {}, link));
  }
  const silenced = summary.silenced !== undefined ? summary.silenced : (summary.states || {}).SILENCED;
  if (silenced !== undefined) {
    list.append(cw.el("li", {}, cw.el("span", {class: "n"}, cw.fmt(silenced, 0)), cw.stateBadge("SILENCED")));
  }
  const totals = document.getElementById("totals");
  totals.replaceChildren();
  for (const [currency, t] of Object.entries(summary.currencies || {})) {
    totals.append(cw.el("span", {}, cw.el("b", {}, cw.money(t.balance, currency)),
                        " in " + cw.fmt(t.accounts, 0) + " accounts, burning " + cw.money(t.burn_per_day, currency) + " a day"));
  }
}

function accountRow(a) {
  const tr = cw.el("tr", {"data-account": a.account});
  for (const c of columns) {
    const cls = [c.num ? "num" : "", c.cls || "", c.narrow ? "hide-narrow" : ""].join(" ").trim();
    tr.append(cw.el("td", {class: cls || null}, c.cell(a)));
  }
  return tr;
}

// The page's accounts under one header row per value of the label `key`, the groups in the
// order their first account comes in: each group keeps the chosen sort, and the group
// holding the page's first (worst, by default) account comes first. The count is this
// page's, as only the page is fetched.
function groupedRows(accounts, key) {
  const groups = new Map();
  for (const a of accounts) {
    const labels = a.labels || {};
    const value = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : null;
    if (!groups.has(value)) groups.set(value, []);
    groups.get(value).push(a);
  }
  const rows = [];
  for (const [value, members] of groups) {
    const title = value === null ? "(none)" : value;
    rows.push(cw.el("tr", {class: "group", "data-group": title},
                    cw.el("th", {scope: "colgroup", colspan: columns.length},
                          cw.el("span", {class: "group-key"}, key + ": "), title,
                          cw.el("span", {class: "group-count"}, " · " + cw.fmt(members.length, 0) +
                                (members.length === 1 ? " account" : " accounts") + " on this page"))));
    for (const a of members) rows.push(accountRow(a));
  }
  return rows;
}

function renderRows(page) {
  const body = document.getElementById("rows");
  const group = view().group;
  const rows = group ? groupedRows(page.accounts, group) : page.accounts.map(accountRow);
  if (!rows.length) {
    rows.push(cw.el("tr", {}, cw.el("td", {colspan: columns.length, class: "empty"},
                                    page.total === 0 && !location.search ? "No accounts configured." : "No account matches.")));
  }
  body.replaceChildren(...rows);
  const v = view();
  const depth = (history.state && history.state.depth) || 0;
  document.getElementById("shown").textContent =
      page.accounts.length + " of " + cw.fmt(page.total, 0) + " accounts" + (depth ? " (page " + (depth + 1) + ")" : "");
  document.getElementById("first").disabled = !v.cursor;
  const next = document.getElementById("next");
  next.disabled = !page.next_cursor;
  next.onclick = () => go({cursor: page.next_cursor}, true);
}

let generation = 0;
async function render() {
  const mine = ++generation;
  const v = view();
  const p = new URLSearchParams({limit: v.limit, sort: v.sort});
  for (const k of ["q", "state", "label", "cursor"]) if (v[k]) p.set(k, v[k]);
  const [summary, page, silences, maintenance] = await Promise.all([
    cw.json("api/v1/summary"), cw.json("api/v1/accounts?" + p),
    cw.json("api/v1/silences").catch(() => null), cw.json("api/v1/maintenance").catch(() => null)]);
  if (mine !== generation) return;  // a newer view was asked for meanwhile
  header();
  renderCounts(summary);
  renderRows(page);
  renderSilences(silences, maintenance);
  cw.stamp("updated");
  if (!document.body.dataset.renderedMs) document.body.dataset.renderedMs = Math.round(performance.now());
}

// The active and pending silences, each with what it matches, until when, who and why, and a
// button that ends it now.
function renderSilences(answer, maintenance) {
  const panel = document.getElementById("silences");
  const list = (answer && answer.silences) || [];
  const windows = (maintenance && maintenance.windows) || [];
  panel.hidden = !list.length && !windows.length;
  const items = list.map(s => {
    const what = Object.entries(s.matchers || {}).map(([k, v]) => k + "=" + v).join(", ") || "every alert";
    const expire = cw.el("button", {type: "button", class: "expire"}, "Expire");
    expire.addEventListener("click", async () => {
      expire.disabled = true;
      try {
        await cw.send("DELETE", "api/v1/silences/" + encodeURIComponent(s.id));
        refresh();
      } catch (e) {
        expire.disabled = false;
        document.getElementById("updated").textContent = "expire failed: " + e.message;
      }
    });
    return cw.el("li", {"data-silence": s.id}, cw.el("b", {}, what), " · until " + cw.utc(Date.parse(s.ends_at)) +
                 (s.state && s.state !== "active" ? " (" + s.state + ")" : "") +
                 " · " + (s.created_by || "someone") + (s.comment ? ": " + s.comment : "") + " ", expire);
  });
  // Maintenance windows (config): recurring silences, open now or when they next open.
  for (const w of windows) {
    const what = Object.entries(w.match || {}).map(([k, v]) => k + "=" + v).join(", ") || "every alert";
    const when = (w.days && w.days.length ? w.days.join(", ") + " " : "") + w.start + "–" + w.end + " " + (w.timezone || "UTC");
    const now = w.active ? "open until " + cw.utc(Date.parse(w.ends_at))
                         : (w.starts_at ? "next " + cw.utc(Date.parse(w.starts_at)) : "");
    items.push(cw.el("li", {"data-maintenance": w.name, class: w.active ? "open" : null},
                     cw.el("b", {}, "maintenance " + w.name), " · " + what + " · " + when + (now ? " · " + now : "")));
  }
  document.getElementById("silence-list").replaceChildren(...items);
}

function refresh() {
  render().catch(e => { document.getElementById("updated").textContent = "update failed: " + e.message; });
}

// The form mirrors the URL; typing filters after a pause.
function bindFilters() {
  bindValues();
  let timer = 0;
  const typed = id => () => {
    clearTimeout(timer);
    timer = setTimeout(() => go({[id]: document.getElementById(id).value.trim()}), 250);
  };
  document.getElementById("q").addEventListener("input", typed("q"));
  document.getElementById("label").addEventListener("input", typed("label"));
  document.getElementById("group").addEventListener("input", typed("group"));
  for (const id of ["state", "limit"]) {
    document.getElementById(id).addEventListener("change", () => go({[id]: document.getElementById(id).value}));
  }
  document.getElementById("filters").addEventListener("submit", e => e.preventDefault());
  document.getElementById("first").addEventListener("click", () => go({cursor: ""}));
  window.addEventListener("popstate", () => { bindValues(); refresh(); });
}

function bindValues() {
  const v = view();
  for (const id of ["q", "state", "label", "group", "limit"]) document.getElementById(id).value = v[id];
}

// Keyboard: "/" searches; arrow keys move between rows (their name links, so group headers,
// which have none, are skipped), Enter opens one.
function bindKeys() {
  document.addEventListener("keydown", e => {
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    if (e.key === "/" && !typing) {
      e.preventDefault();
      document.getElementById("q").focus();
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const links = [...document.querySelectorAll("#rows td.name a")];
    if (!links.length || (typing && e.key === "ArrowUp")) return;
    const at = links.indexOf(document.activeElement);
    const next = e.key === "ArrowDown" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    e.preventDefault();
    links[at < 0 ? 0 : next].focus();
  });
}

bindFilters();
bindKeys();
header();
refresh();
setInterval(refresh, 30000);

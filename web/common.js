// Helpers shared by the pages of the status UI (loaded before each page's own script).
"use strict";
const cw = {
  // 1,234.56; "–" when there is no figure.
  fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    return Number(v).toLocaleString(undefined, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  },
  // An amount with its currency or unit: "12.50 USD", "5,958 searches", "12 %" (as the C++
  // side writes it: common/amount_text.cpp). Money keeps
  // cents; a count of searches or characters shows what it is, up to two decimals.
  money(v, currency) {
    if (v === null || v === undefined) return "–";
    const isMoney = !currency || /^[A-Z]{3}$/.test(currency);
    const text = isMoney ? cw.fmt(v, 2)
                         : Number(v).toLocaleString(undefined, {minimumFractionDigits: 0, maximumFractionDigits: 2});
    return text + cw.unitSuffix(currency);
  },
  // " USD", " searches", " %" (a quota window's unit is stored as "percent"), "" for none.
  unitSuffix(currency) {
    if (!currency) return "";
    return currency === "percent" ? " %" : " " + currency;
  },
  runway(days) {
    if (days === null || days === undefined) return "–";
    if (days <= 0) return "none left";
    if (days >= 1) return cw.fmt(days, 1) + " d";
    if (days * 24 >= 1) return cw.fmt(days * 24, 1) + " h";
    return cw.fmt(days * 1440, 0) + " min";
  },
  pad: n => String(n).padStart(2, "0"),
  // UTC, to the minute: "2026-05-01 14:05 UTC"; just the date with `dateOnly`.
  utc(ms, dateOnly) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
    const d = new Date(ms);
    const date = d.getUTCFullYear() + "-" + cw.pad(d.getUTCMonth() + 1) + "-" + cw.pad(d.getUTCDate());
    return dateOnly ? date : date + " " + cw.pad(d.getUTCHours()) + ":" + cw.pad(d.getUTCMinutes()) + " UTC";
  },
  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c !== undefined && c !== null) e.append(c);
    }
    return e;
  },
  stateBadge(state) {
    return cw.el("span", {class: "state " + state}, state);
  },
  async json(url) {
    const r = await fetch(url, {cache: "no-store", credentials: "same-origin"});
    if (!r.ok) {
      let why = "HTTP " + r.status;
      try { why += ": " + (await r.json()).error; } catch (e) { /* not JSON: the status says enough */ }
      throw new Error(why);
    }
    return r.json();
  },
  // POST or DELETE to the API with a JSON body; the session cookie goes along and the
  // browser's Origin and Sec-Fetch-Site headers satisfy the daemon's cross-site check.
  async send(method, url, body) {
    const init = {method, cache: "no-store", credentials: "same-origin", headers: {}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(url, init);
    let answer = null;
    try { answer = await r.json(); } catch (e) { /* no JSON body */ }
    if (!r.ok) throw new Error("HTTP " + r.status + (answer && answer.error ? ": " + answer.error : ""));
    return answer;
  },
  // The firing findings of account `a` with their alert's marks (silenced, silenced_by,
  // acknowledged), which the API keeps on `alerts`.
  firingWithMarks(a) {
    return (a.firing || []).map(f => Object.assign({}, (a.alerts || []).find(x => x.rule === f.rule) || {}, f));
  },
  // A short "silenced" / "acknowledged by …" note for a firing alert, or null.
  marks(f) {
    const notes = [];
    if (f.silenced) notes.push("silenced");
    if (f.acknowledged) notes.push("acknowledged by " + (f.acknowledged.by || "someone"));
    return notes.length ? cw.el("span", {class: "marks"}, notes.join(", ")) : null;
  },
  stamp(id) {
    const now = new Date();
    document.getElementById(id).textContent =
        "updated " + cw.pad(now.getUTCHours()) + ":" + cw.pad(now.getUTCMinutes()) + ":" + cw.pad(now.getUTCSeconds()) + " UTC";
  },
};

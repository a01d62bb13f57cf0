"""The invariants of the chaos run, as pure functions of what was recorded: the daemon's
outbox rows and alerts table, what each fake sink applied (answered 2xx to) or refused, the
SIGKILL times, and the daemon's outputs. Each returns a list of Violation; self_test.py
feeds them broken histories to show each one can fail.

How a received notification is tied to the daemon's queue: each outbox row is one
notification for one notifier, in the order the alert changed (row ids grow with the
transitions of a dedup key). A sink's request is matched to a row by what it carries
(status, severity, reason and the change time to the second where the sink's shape has
them; a PagerDuty resolve carries only its dedup_key). What a sink applied must then be the
rows of that key in row order, each once: rows may be skipped (dead letters, a newer state
superseding a pending one), never reordered. The only repeat allowed is the same request
again (identical bytes) with a SIGKILL between the two receipts: the daemon was killed
after the sink answered and before it marked the row delivered, so at-least-once delivery
sends it again. Any other repeat is a violation (e.g. a 2xx answer the daemon failed to
read, retried).
"""

import time

SINK_KINDS = {"hook": "webhook", "slack": "slack", "pd": "pagerduty"}
APPLIED = ("ok", "slow_ok", "huge_ok")
CONTROLLED_RULES = ("key_invalid", "exhausted", "min_balance", "stale")
# The rules each final provider state must leave firing; the other controlled rules resolved.
FINAL_FIRING = {"healthy": (), "exhausted": ("exhausted",), "key_invalid": ("key_invalid",), "low": ("min_balance",)}


class Violation:
    def __init__(self, invariant, text):
        self.invariant = invariant
        self.text = text

    def __repr__(self):
        return "[%s] %s" % (self.invariant, self.text)


def rfc3339(ts_ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_ms // 1000)) if ts_ms is not None else None


def row_signature(row, kind):
    if kind == "pagerduty":
        return ("resolved",) if row.status == "resolved" else ("firing", row.severity, rfc3339(row.ts_ms))
    if kind == "slack":
        return (row.status, row.severity, rfc3339(row.ts_ms))
    return (row.status, row.severity, row.reason, rfc3339(row.ts_ms))


def event_signature(event, kind):
    if kind == "pagerduty":
        return ("resolved",) if event["status"] == "resolved" else ("firing", event["severity"], event["time"])
    if kind == "slack":
        return (event["status"], event["severity"], event["time"])
    return (event["status"], event["severity"], event.get("reason"), event["time"])


def group(items, key):
    out = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


# A request's arrival is when the fake's thread took it up, which under load lags the moment
# the daemon sent it: a kill this long before the first arrival may still have come after
# the send.
KILL_SLACK_SECONDS = 1.0


def kill_between(kills, first, second):
    return any(first - KILL_SLACK_SECONDS <= k <= second for k in kills)


def map_to_rows(events, rows, kind):
    """Each applied event to a row index, indices non-decreasing, a repeated index only for
    identical bytes; fewest repeats. Returns (mapping, None) or (None, index of the first
    event that cannot be placed)."""
    sigs = [row_signature(r, kind) for r in rows]
    infinity = float("inf")
    cost = None      # cost[j]: fewest repeats so far with the current event on row j
    back = []        # back[i][j]: the row of event i-1 on the best path to (i, j)
    for i, event in enumerate(events):
        sig = event_signature(event, kind)
        same_bytes = i > 0 and events[i - 1]["sha"] == event["sha"]
        new = [infinity] * len(rows)
        choice = [None] * len(rows)
        prefix, prefix_at = infinity, None   # the best of cost[0..j-1]
        for j in range(len(rows)):
            if sigs[j] == sig:
                if cost is None:
                    new[j] = 0
                else:
                    if prefix < new[j]:
                        new[j], choice[j] = prefix, prefix_at
                    if same_bytes and cost[j] + 1 < new[j]:
                        new[j], choice[j] = cost[j] + 1, j
            if cost is not None and cost[j] < prefix:
                prefix, prefix_at = cost[j], j
        if min(new, default=infinity) == infinity:
            return None, i
        cost = new
        back.append(choice)
    if cost is None:
        return [], None
    j = min(range(len(rows)), key=lambda k: cost[k])
    mapping = []
    for i in range(len(events) - 1, -1, -1):
        mapping.append(j)
        j = back[i][j]
    return mapping[::-1], None


def in_arrival_order(events):
    """Applied events in the order their requests arrived: the daemon sends one request at a
    time per notifier, so only a killed daemon's request still being answered overlaps the
    next incarnation's, and the arrival order is the order it sent them."""
    return sorted((e for e in events if e["outcome"] in APPLIED), key=lambda e: e["arrived"])


def check_order(rows, events, kills):
    """Per sink and dedup key: applied notifications in row order, repeats only around a
    SIGKILL. Returns (violations, repeats excused by a SIGKILL)."""
    violations, excused = [], 0
    applied = group(in_arrival_order(events), lambda e: (e["sink"], e["key"]))
    queued = group(rows, lambda r: (r.notifier, r.dedup_key))
    for (sink, key), received in sorted(applied.items()):
        kind = SINK_KINDS[sink]
        candidates = sorted(queued.get((sink, key), []), key=lambda r: r.id)
        mapping, stuck = map_to_rows(received, candidates, kind)
        if mapping is None:
            violations.append(Violation("causal order", "%s %s: received %s, which fits no queued row after %s; "
                                        "received in order: %s; queued in order: %s" % (
                                            sink, key, event_signature(received[stuck], kind),
                                            [event_signature(e, kind) for e in received[:stuck]][-3:],
                                            [event_signature(e, kind) for e in received],
                                            [(r.id, row_signature(r, kind), r.state) for r in candidates])))
            continue
        for i in range(1, len(received)):
            if mapping[i] != mapping[i - 1]:
                continue
            # From the first request's arrival: a kill while the sink was still answering it counts.
            if kill_between(kills, received[i - 1]["arrived"], received[i]["arrived"]):
                excused += 1
            else:
                violations.append(Violation("once", "%s %s: row %d %s applied twice (%.1fs apart, answered %s then "
                                            "%s) with no SIGKILL between" % (
                                                sink, key, candidates[mapping[i]].id,
                                                event_signature(received[i], kind),
                                                received[i]["at"] - received[i - 1]["at"], received[i - 1]["outcome"],
                                                received[i]["outcome"])))
    return violations + check_queue_order(rows), excused


def check_queue_order(rows):
    """The daemon's own record agrees: per notifier and dedup key, rows are queued in the
    order the alert changed, and delivered in the order they were queued. This sees what
    signatures cannot (two changes of one alert within the same second look alike)."""
    violations = []
    for (sink, key), mine in sorted(group(rows, lambda r: (r.notifier, r.dedup_key)).items()):
        last_ts = last_delivered = None
        for r in sorted(mine, key=lambda r: r.id):
            if r.ts_ms is not None and last_ts is not None and r.ts_ms < last_ts:
                violations.append(Violation("causal order", "%s %s: outbox row %d changed at %d, before the row "
                                            "queued ahead of it (%d)" % (sink, key, r.id, r.ts_ms, last_ts)))
            last_ts = r.ts_ms if r.ts_ms is not None else last_ts
            if r.state == "delivered" and r.delivered_ms is not None:
                if last_delivered is not None and r.delivered_ms < last_delivered[1]:
                    violations.append(Violation("causal order", "%s %s: row %d was delivered before row %d, which "
                                                "was queued ahead of it" % (sink, key, r.id, last_delivered[0])))
                last_delivered = (r.id, r.delivered_ms)
    return violations


def refused(events, sink, key, signature, kind):
    """The sink answered a request carrying this notification with something other than 2xx."""
    return any(e["sink"] == sink and e["key"] == key and e["outcome"] not in APPLIED and
               event_signature(e, kind) == signature for e in events)


def check_final_states(alerts, rows, events, routes):
    """Every alert in its final state (firing at its severity, or resolved) is the last thing
    each routed sink applied for its dedup key. The one excuse: the row carrying that state
    is a dead letter and the sink did refuse it (a permanent 4xx, or failures until
    dead_after). Returns (violations, excused)."""
    violations, excused = [], 0
    applied = group(in_arrival_order(events), lambda e: (e["sink"], e["key"]))
    queued = group(rows, lambda r: (r.notifier, r.dedup_key))
    for alert in alerts:
        if alert["rule"] == "topped_up":
            continue  # an event, not a state: checked by check_last_rows
        key = "creditwatch-%s-%s" % (alert["account"], alert["rule"])
        for sink in routes.get(alert["account"], ()):
            kind = SINK_KINDS[sink]
            last = (applied.get((sink, key)) or [None])[-1]
            if last is not None and last["status"] == alert["state"] and (
                    alert["state"] == "resolved" or last["severity"] == alert["severity"]):
                continue
            mine = [r for r in queued.get((sink, key), []) if r.status == alert["state"] and
                    (alert["state"] == "resolved" or r.severity == alert["severity"])]
            final = mine[-1] if mine else None
            if final is not None and final.state == "dead" and refused(events, sink, key, row_signature(final, kind),
                                                                      kind):
                excused += 1
                continue
            violations.append(Violation("final state", "%s: %s is %s (%s) but %s last applied %s; "
                                        "row carrying it: %s" % (
                key, alert["account"] + "/" + alert["rule"], alert["state"], alert["severity"], sink,
                None if last is None else (last["status"], last["severity"], last["time"]),
                None if final is None else (final.id, final.state, final.attempts, final.last_error[:200]))))
    return violations, excused


def check_last_rows(rows, events, rule="topped_up"):
    """For event rules (topped_up) there is no final state, only a newest notification: it
    arrives, unless the sink refused it."""
    violations = []
    applied = group(in_arrival_order(events), lambda e: (e["sink"], e["key"]))
    for (sink, key), mine in group([r for r in rows if r.rule == rule], lambda r: (r.notifier, r.dedup_key)).items():
        kind = SINK_KINDS[sink]
        newest = max(mine, key=lambda r: r.id)
        got = [event_signature(e, kind) for e in applied.get((sink, key), [])]
        if row_signature(newest, kind) in got[-1:]:
            continue
        if newest.state == "dead" and refused(events, sink, key, row_signature(newest, kind), kind):
            continue
        violations.append(Violation("final state", "%s %s: newest notification (row %d, %s) never arrived; last "
                                    "applied: %s" % (sink, key, newest.id, newest.state, got[-1:])))
    return violations


def check_controlled_rules(alerts, finals):
    """The daemon's own alert state agrees with what the provider said last: each of the
    rules the quiet phase drove through firing has fired, and the final answer left exactly
    its rule firing (a 402 with a long Chinese message must still be `exhausted`)."""
    violations = []
    state = {(a["account"], a["rule"]): a["state"] for a in alerts}
    for account, final in sorted(finals.items()):
        for rule in CONTROLLED_RULES:
            have = state.get((account, rule))
            want = "firing" if rule in FINAL_FIRING[final] else "resolved"
            if have is None:
                violations.append(Violation("alert state", "%s/%s never fired, though the provider was driven into it "
                                            "(final answer: %s)" % (account, rule, final)))
            elif have != want:
                violations.append(Violation("alert state", "%s/%s is %s after the final answer %r; expected %s" % (
                    account, rule, have, final, want)))
    return violations


def overdue(pending, now_ms, limit_ms):
    """Rows still pending longer than dead_after plus the longest wait the daemon may
    legitimately add before its next attempt (see chaos.py)."""
    return [Violation("dead_after", "row %d (%s %s) pending for %.1fs, attempts %d, last error: %s" % (
        r.id, r.notifier, r.dedup_key, (now_ms - r.created_ms) / 1000.0, r.attempts, r.last_error[:200]))
        for r in pending if now_ms - r.created_ms > limit_ms]


def secret_chunks(value, prefix_len, width=12, step=10):
    """Pieces of a secret's random part: any leak of 22 or more consecutive characters of it
    contains one of them."""
    core = value[prefix_len:]
    if len(core) <= width:
        return [core]
    return [core[i:i + width] for i in range(0, len(core) - width + 1, step)] + [core[-width:]]


def check_secrets(outputs, secrets, prefix_lens):
    """outputs: (where, text, names of the secrets allowed there). A secret, or 22+
    consecutive characters of its random part, in any output is a violation."""
    violations = []
    for where, text, allowed in outputs:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        for name, value in sorted(secrets.items()):
            if name in allowed:
                continue
            if value in text:
                violations.append(Violation("secret", "%s contains the secret %s (%s...)" % (where, name, value[:4])))
            elif any(chunk in text for chunk in secret_chunks(value, prefix_lens.get(name, 0))):
                violations.append(Violation("secret", "%s contains part of the secret %s (%s...)" % (where, name,
                                                                                                    value[:4])))
    return violations


def figures(rows, events, kills, alerts):
    resolved = {(r.dedup_key, r.ts_ms) for r in rows if r.status == "resolved"}
    started = {(r.dedup_key, r.ts_ms) for r in rows if r.reason == "started"}
    final = [r for r in rows if r.state != "pending"]
    return {
        "lifecycles": len(resolved),
        "alerts started": len(started),
        "notifications queued": len(rows),
        "deliveries": sum(1 for e in events if e["outcome"] in APPLIED),
        "rows delivered": sum(1 for r in rows if r.state == "delivered"),
        "retries": sum(r.attempts for r in rows) - len(final),
        "dead letters": sum(1 for r in rows if r.state == "dead"),
        "kills": kills,
        "alerts in the table": len(alerts),
    }

"""The checker against histories broken on purpose: each invariant must report the break,
and a clean history must pass (a checker that always fails proves nothing either).
Run by `chaos.py --self-test` (a ctest entry of its own)."""

import json

import checker
from daemon import OutboxRow

KEY = "creditwatch-acct-00-exhausted"
T1, T2, T3 = 1767225600000, 1767225605000, 1767225610000   # 2026-01-01T00:00:00Z, +5 s, +10 s


def row(id, notifier, status, ts_ms, state="delivered", severity="critical", reason=None, key=KEY, created_ms=None,
        rule="exhausted", delivered_ms=None):
    reason = reason or ("resolved" if status == "resolved" else "started")
    payload = json.dumps({"dedup_key": key, "status": status, "reason": reason, "severity": severity,
                          "ts_ms": ts_ms, "rule": rule})
    delivered_ms = delivered_ms or (ts_ms + 100 if state == "delivered" else None)
    return OutboxRow(id, created_ms or ts_ms, notifier, key, payload, 1, ts_ms, state, "", delivered_ms)


def event(sink, status, ts_ms, at, outcome="ok", severity="critical", key=KEY, sha=None):
    time = checker.rfc3339(ts_ms)
    reason = "resolved" if status == "resolved" else "started"
    if sink == "pd" and status == "resolved":
        severity = time = None
    return {"sink": sink, "key": key, "status": status, "severity": severity, "reason": reason, "time": time,
            "outcome": outcome, "at": at, "arrived": at - 0.1, "sha": sha or "%s-%s-%s" % (sink, status, ts_ms)}


def history():
    """Fired, resolved, fired again; both sinks got all three, in order."""
    rows = [row(1, "hook", "firing", T1), row(2, "pd", "firing", T1), row(3, "hook", "resolved", T2),
            row(4, "pd", "resolved", T2), row(5, "hook", "firing", T3), row(6, "pd", "firing", T3)]
    events = [event("hook", "firing", T1, 10), event("pd", "firing", T1, 11), event("hook", "resolved", T2, 20),
              event("pd", "resolved", T2, 21), event("hook", "firing", T3, 30), event("pd", "firing", T3, 31)]
    alerts = [{"account": "acct-00", "rule": "exhausted", "state": "firing", "severity": "critical"}]
    return rows, events, alerts


ROUTES = {"acct-00": ["hook", "pd"]}


def all_checks(rows, events, alerts, kills=()):
    order, repeats = checker.check_order(rows, events, list(kills))
    final, excused = checker.check_final_states(alerts, rows, events, ROUTES)
    return order + final, repeats, excused


CASES = []


def case(function):
    CASES.append(function)
    return function


@case
def clean_history_passes():
    violations, repeats, excused = all_checks(*history())
    return not violations and repeats == 0 and excused == 0, violations


@case
def sink_that_drops_the_final_notification_is_caught():
    rows, events, alerts = history()
    events[4]["outcome"] = "dropped"   # answered 200, applied nothing
    violations, _, _ = all_checks(rows, events, alerts)
    return any(v.invariant == "final state" and "hook" in v.text for v in violations), violations


@case
def final_state_dead_lettered_by_the_sink_is_excused():
    rows, events, alerts = history()
    rows[4] = row(5, "hook", "firing", T3, state="dead")
    events[4]["outcome"] = "permanent"
    violations, _, excused = all_checks(rows, events, alerts)
    return not violations and excused == 1, violations


@case
def final_state_dead_lettered_by_the_daemon_alone_is_caught():
    rows, events, alerts = history()
    rows[4] = row(5, "hook", "firing", T3, state="dead")
    del events[4]   # the sink never saw it: the daemon gave up on its own (a poison row)
    violations, _, _ = all_checks(rows, events, alerts)
    return any(v.invariant == "final state" for v in violations), violations


@case
def resolve_before_trigger_is_caught():
    rows, events, alerts = history()
    # PagerDuty got resolve, trigger, trigger
    events[1], events[3] = dict(events[3], at=11, arrived=10.9), dict(events[1], at=21, arrived=20.9)
    violations, _, _ = all_checks(rows, events, alerts)
    return any(v.invariant == "causal order" and "pd" in v.text for v in violations), violations


@case
def superseded_notification_may_be_skipped():
    rows, events, alerts = history()
    del events[1]   # PagerDuty's first trigger never sent: the resolve superseded it
    violations, _, _ = all_checks(rows, events, alerts)
    return not violations, violations


@case
def repeat_without_a_kill_is_caught():
    rows, events, alerts = history()
    events.insert(3, dict(events[2], at=22, arrived=21.9))
    violations, _, _ = all_checks(rows, events, alerts)
    return any(v.invariant == "once" for v in violations), violations


@case
def repeat_around_a_kill_is_excused():
    rows, events, alerts = history()
    events.insert(4, dict(events[3], at=25, arrived=24.9))   # PagerDuty's resolve again after the kill at 23
    violations, repeats, _ = all_checks(rows, events, alerts, kills=[23])
    return not violations and repeats == 1, violations


@case
def request_of_a_killed_daemon_answered_late_is_excused():
    rows, events, alerts = history()
    # Incarnation 1 sent the resolve at 20.9 and was killed at 21 while the sink was still
    # answering (applied at 26); incarnation 2 sent it again at 24.9.
    events[2] = dict(events[2], at=26, arrived=20.9)
    events.insert(3, dict(events[2], at=25, arrived=24.9))
    violations, repeats, _ = all_checks(rows, events, alerts, kills=[21])
    return not violations and repeats == 1, violations


@case
def repeat_after_a_kill_that_came_before_the_first_request_is_caught():
    rows, events, alerts = history()
    events.insert(4, dict(events[3], at=25, arrived=24.9))
    violations, repeats, _ = all_checks(rows, events, alerts, kills=[18])   # over a second before
    return any(v.invariant == "once" for v in violations) and repeats == 0, violations


@case
def outbox_rows_out_of_order_are_caught():
    rows, events, alerts = history()
    rows[2] = row(3, "hook", "resolved", T1 - 1000)
    violations, _, _ = all_checks(rows, events, alerts)
    return any(v.invariant == "causal order" for v in violations), violations


@case
def rows_delivered_out_of_queue_order_are_caught():
    rows, events, alerts = history()
    # Two changes within one second look alike to the sink; the daemon's record still shows it.
    rows[3] = row(4, "pd", "resolved", T2, delivered_ms=T1 + 50)
    violations, _, _ = all_checks(rows, events, alerts)
    return any(v.invariant == "causal order" and "row 4 was delivered before row 2" in v.text
               for v in violations), violations


@case
def row_pending_past_dead_after_is_caught():
    pending = [row(7, "hook", "firing", T1, state="pending"), row(8, "hook", "firing", T3, state="pending")]
    violations = checker.overdue(pending, T3 + 5000, 8000)
    return len(violations) == 1 and "row 7" in violations[0].text, violations


@case
def secrets_are_found_whole_and_in_part():
    secrets = {"key-a": "sk-cwchaos-AbCdEfGhJkMnPqRsTuVwXyZ23456789abcd", "pd-key": "pdkeycwchaos98765432zyxwvutsrqpn"}
    prefixes = {"key-a": 11, "pd-key": 12}
    outputs = [("log", "key rejected: sk-cwchaos-AbCdEfGhJkMnPqRsTuVwXyZ23456789abcd", ()),
               ("metrics", "cut: JkMnPqRsTuVwXyZ234...", ()),
               ("masked", "Your api key: ****abcd is invalid", ()),
               ("pd body", '{"routing_key":"pdkeycwchaos98765432zyxwvutsrqpn"}', ("pd-key",))]
    violations = checker.check_secrets(outputs, secrets, prefixes)
    places = sorted(v.text.split()[0] for v in violations)
    return places == ["log", "metrics"], violations


@case
def alert_that_never_fired_is_caught():
    alerts = [{"account": "acct-00", "rule": r, "state": "resolved", "severity": "critical"}
              for r in ("exhausted", "min_balance", "stale")]
    violations = checker.check_controlled_rules(alerts, {"acct-00": "key_invalid"})
    return len(violations) == 1 and "key_invalid never fired" in violations[0].text, violations


@case
def alert_left_in_the_wrong_state_is_caught():
    alerts = [{"account": "acct-00", "rule": r, "state": "resolved", "severity": "critical"}
              for r in checker.CONTROLLED_RULES]
    violations = checker.check_controlled_rules(alerts, {"acct-00": "exhausted"})
    return len(violations) == 1 and "exhausted is resolved" in violations[0].text, violations


def main():
    failed = 0
    for function in CASES:
        ok, violations = function()
        print("%s %s" % ("ok  " if ok else "FAIL", function.__name__.replace("_", " ")))
        if not ok:
            failed += 1
            for v in violations:
                print("     reported: %r" % v)
    print("checker self-test: %d of %d cases passed" % (len(CASES) - failed, len(CASES)))
    return 1 if failed else 0

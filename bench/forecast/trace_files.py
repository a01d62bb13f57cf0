"""The trace files both generators write and score.py reads (one place for the format).

Per trace NAME in OUT: NAME.csv (`timestamp,balance`, what probes saw), NAME.truth.csv
(`step_start,demand,true_balance`: the demand of step i is spent over
[start + i*step, start + (i+1)*step), true balance where known) and NAME.meta.json.
"""
import json
import os


def write_trace(out, name, rows, demand, true_balances, info, start, step, format_ts):
    with open(os.path.join(out, name + ".csv"), "w") as f:
        f.write("timestamp,balance\n")
        for ts, b in rows:
            f.write(f"{format_ts(ts)},{b:.2f}\n")
    with open(os.path.join(out, name + ".truth.csv"), "w") as f:
        f.write("step_start,demand,true_balance\n")
        for i, d in enumerate(demand):
            tb = f"{true_balances[i]:.6f}" if i < len(true_balances) else ""
            f.write(f"{start + i * step},{d:.6f},{tb}\n")
    info["name"] = name
    with open(os.path.join(out, name + ".meta.json"), "w") as f:
        json.dump(info, f, indent=1)

#!/usr/bin/env python3
"""Where the daemon's CPU goes, grouped: reads `perf script` output of a `perf record -g`
(run_load.py --perf writes one) and attributes each sample to the first group one of its
frames belongs to, walking from the leaf towards the thread's start. So time in the kernel
under a libcurl call counts as HTTP, malloc under a JSON parse counts as allocation, a
futex wait under a condition variable as a thread handoff.

  perf script -i perf-5000-0.data --no-inline | bench/load/perf_groups.py [--top 25]

Prints each group's share of the samples, then the top leaf symbols with theirs.
Python 3 standard library only.
"""

import argparse
import collections
import re
import sys

# (group, pattern on a frame's symbol or library), tried in this order on each frame.
GROUPS = [
    ("allocation", re.compile(r"^(malloc|free|cfree|calloc|realloc|_int_malloc|_int_free|_int_realloc|"
                              r"malloc_consolidate|tcache_|operator new|operator delete|__libc_malloc|"
                              r"__libc_free|__libc_calloc|__libc_realloc|unlink_chunk|sysmalloc)")),
    ("thread handoffs", re.compile(r"(pthread_cond_|pthread_mutex_|__lll_lock|futex|condition_variable|"
                                   r"std::mutex|__pthread_mutex|lll_mutex|GroupCommit::write)")),
    ("logging", re.compile(r"(spdlog|fmt::v\d+::)")),
    ("JSON parsing", re.compile(r"(nlohmann|parse_object|json_text)")),
    ("forecast", re.compile(r"creditwatch::forecast::")),
    ("alert evaluation", re.compile(r"(creditwatch::alerts::|AlertEngine)")),
    ("storage", re.compile(r"(sqlite3|SqliteStore|creditwatch::storage::|libsqlite3|libpq|PostgresStore)")),
    ("HTTP (libcurl, sockets)", re.compile(r"(libcurl|Curl_|curl_|CurlClient|creditwatch::http::|"
                                           r"on_header|on_body)")),
    ("providers (request, parse)", re.compile(r"creditwatch::providers::")),
    ("probe dispatch (monitor, assessor)", re.compile(r"creditwatch::scheduler::")),
]


def parse_samples(stream):
    """Yields each sample's frames, leaf first, as (symbol, library)."""
    frames = []
    in_sample = False
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield frames
            frames, in_sample = [], False
            continue
        if not line.startswith((" ", "\t")):
            in_sample = True  # the sample's header line (comm pid time event)
            continue
        if not in_sample:
            continue
        parts = line.strip().split(" ", 1)
        if len(parts) < 2:
            continue
        rest = parts[1]
        library = ""
        match = re.search(r"\(([^()]*)\)$", rest)
        if match:
            library = match.group(1)
            rest = rest[: match.start()].strip()
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", rest)
        frames.append((symbol, library))
    if frames:
        yield frames


def group_of(frames):
    for symbol, library in frames:
        for name, pattern in GROUPS:
            if pattern.search(symbol) or pattern.search(library):
                return name
    library = frames[0][1]
    if "kernel" in library:
        return "kernel (other)"
    return "other"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    groups = collections.Counter()
    leaves = collections.Counter()
    total = 0
    for frames in parse_samples(sys.stdin):
        total += 1
        groups[group_of(frames)] += 1
        symbol, library = frames[0]
        leaves[f"{symbol} ({library.rsplit('/', 1)[-1]})"] += 1
    if not total:
        raise SystemExit("no samples")
    print(f"samples: {total}\n")
    print("| group | share |\n|---|---:|")
    for name, count in groups.most_common():
        print(f"| {name} | {100.0 * count / total:.1f} % |")
    print(f"\n| top leaf symbols | share |\n|---|---:|")
    for name, count in leaves.most_common(args.top):
        print(f"| `{name[:110]}` | {100.0 * count / total:.1f} % |")


if __name__ == "__main__":
    main()

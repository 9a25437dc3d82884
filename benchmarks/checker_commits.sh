#!/usr/bin/env bash
# The model checker at several commits, in one run: CPU time of the first N abstract states of
# a definition, each commit in a detached worktree of its own, with this checkout's venv.
#
#   bash benchmarks/checker_commits.sh zuid-limburg 100000 65d359d d8f58e2 HEAD
#
# Prints one line per run (two per commit): commit, states, transitions, CPU and wall time,
# findings, peak memory; and the load average before and after. It only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
definition="$1"; limit="$2"; shift 2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rev in "$@"; do
  dir="$(mktemp -d)/tree"
  git worktree add -q --detach "$dir" "$rev"
  for _ in 1 2; do
    PYTHONPATH="$dir/src" EENGEZIN_CACHE_DIR="$dir/.cache" .venv/bin/python - "$definition" "$limit" <<'PY' | sed "s/^/$rev /"
import resource, sys, time
from eengezin.checker import check_definition
started = time.process_time()
r = check_definition(sys.argv[1], max_states=int(sys.argv[2]))
print(r.states, r.transitions, f"cpu {time.process_time() - started:.2f}s wall {r.seconds:.2f}s",
      [f.kind for f in r.findings], f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
PY
  done
  git worktree remove --force "$dir"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

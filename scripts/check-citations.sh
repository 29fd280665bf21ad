#!/usr/bin/env bash
# The repository stands alone: semantics live in docs/semantics.md and workflows are named for
# what they are ("the call-center dashboard", "the KPI tables"). This check fails on a citation
# of an outside document: a specification section, a numbered source document, or a benchmark
# workload name (W1–W4, defined in benches/README.md) used outside benches/.
set -euo pipefail
cd "$(dirname "$0")/.."
self=scripts/check-citations.sh
status=0
if git grep -n -I -E 'SPEC ?§|SPEC [0-9]|[Ss]eeds?[ _-]?0[0-9]{2}' -- . ":!$self"; then
  echo "error: the lines above cite an outside document; point to docs/ or name the workflow" >&2
  status=1
fi
if git grep -n -I -E '\bW[1-4]\b' -- . ":!$self" ':!benches'; then
  echo "error: the lines above use a benchmark workload name outside benches/" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "no citations of outside documents"
exit "$status"

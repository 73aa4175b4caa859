#!/usr/bin/env bash
# record-before.sh CHANGE_ID WORKFLOW_TYPE PACKAGE [TEST_REGEX]
#
# Records the old side (DefaultVersion) of a workflow.GetVersion branch: checks
# out the commit before the one that added GetVersion(…, "CHANGE_ID", …) in a
# temporary worktree, adds this checkout's history recorder to its test harness,
# runs the end-to-end PACKAGE there (its worker built from the old code) and
# keeps WORKFLOW_TYPE's history as
# workflows/testdata/histories/WORKFLOW_TYPE.before-CHANGE_ID.json.
# Needs .voltflow/bin/voltflow-temporal (make build): the Temporal server does
# not change with the workflow code.
set -euo pipefail
id=$1 kind=$2 pkg=$3 run=${4:-.}
root=$(git rev-parse --show-toplevel)
added=$(git -C "$root" log --format=%H -S"\"$id\", workflow.DefaultVersion" | tail -1)
[ -n "$added" ] || { echo "no commit adds GetVersion $id" >&2; exit 1; }
tmp=$(mktemp -d /tmp/voltflow-before-"$id".XXXX)
trap 'git -C "$root" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git -C "$root" worktree add --detach "$tmp/src" "$added^" >/dev/null
cp "$root/tests/harness/record.go" "$tmp/src/tests/harness/"
# The hook harness.Main has now: record before the stack stops.
python3 - "$tmp/src/tests/harness/main.go" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
hook = """	code := m.Run()
	if dir := os.Getenv(RecordEnv); dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := s.recordHistories(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, name+" e2e: record histories:", err)
			code = 1
		}
		cancel()
	}
"""
assert "\tcode := m.Run()\n" in s
open(p, "w").write(s.replace("\tcode := m.Run()\n", hook, 1))
PY
mkdir -p "$tmp/bin" "$tmp/out"
(cd "$tmp/src" && go build -o "$tmp/bin/voltflow" ./cmd/voltflow)
ln -s "$root/.voltflow/bin/voltflow-temporal" "$tmp/bin/voltflow-temporal"
(cd "$tmp/src" && VOLTFLOW_RECORD_HISTORIES="$tmp/out" VOLTFLOW_BIN_DIR="$tmp/bin" \
	go test -count=1 -timeout 20m -run "$run" "./$pkg/")
cp "$tmp/out/$kind.json" "$root/workflows/testdata/histories/$kind.before-$id.json"
echo "recorded $kind.before-$id.json (code of ${added:0:10}^)"

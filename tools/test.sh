#!/usr/bin/env bash
# The test command: sets up the machine (tools/setup.sh), builds Release, runs every test project and prints
# the totals as one line "N passed, N failed". Extra arguments go to dotnet test (e.g. --filter).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p artifacts
log=artifacts/test.log
dotnet build LlavaUhd.Edge.sln -c Release --no-restore --verbosity quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
dotnet test LlavaUhd.Edge.sln -c Release --no-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One summary line per test assembly: "Passed!  - Failed:     0, Passed:    94, Skipped:     0, Total:    94, ..."
read -r passed failed < <(sed -n 's/.*- Failed: *\([0-9]*\), Passed: *\([0-9]*\),.*/\2 \1/p' "$log" \
    | awk '{p += $1; f += $2} END {print p + 0, f + 0}')
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi   # a crashed test host still counts as a failure
echo "${passed} passed, ${failed} failed"
exit "$status"

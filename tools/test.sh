#!/usr/bin/env bash
# The test command: sets up the machine (tools/setup.sh), builds Release, runs every test project and prints
# the totals as one line "N passed, N failed". Extra arguments go to dotnet test (e.g. --filter).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=artifacts/test-results
rm -rf "$results"
dotnet build LlavaUhd.Edge.sln -c Release --no-restore --verbosity quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
dotnet test LlavaUhd.Edge.sln -c Release --no-build --logger "trx;LogFilePrefix=tests" --results-directory "$results" "$@"
status=$?
passed=0; failed=0
for f in "$results"/*.trx; do
    [[ -f $f ]] || continue
    counters=$(grep -o '<Counters [^>]*' "$f" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f2=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f2:-0}))
done
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi   # a crash or build break still counts as a failure
echo "${passed} passed, ${failed} failed"
exit $status

#!/usr/bin/env bash
# BenchmarkDotNet suites, Release build. Arguments go to BenchmarkSwitcher, e.g.: bash tools/bench.sh --filter '*SlicePlanner*'
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
if [[ $# -eq 0 ]]; then set -- --filter "*"; fi
dotnet run -c Release --project tests/LlavaUhd.Edge.Benchmarks -- "$@"

#!/usr/bin/env bash
# The demo model's accuracy per question type against visual tokens, on one held-out set (seed 8: the trainer never saw it),
# for the README table (docs/demo-model.md): profiles, slice overlap, aspect-preserving padding, entropy pruning,
# variants fp32 / qdq-int8 / q4 and token packets fp16 / int8. Writes $OUT/results.jsonl and prints a Markdown table.
#
#   bash tools/eval-table.sh                 # 100 scenes (about 450 questions)
#   SCENES=40 bash tools/eval-table.sh       # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tools/LlavaUhd.Edge.Cli -c Release --verbosity quiet -clp:ErrorsOnly
cli=(dotnet tools/LlavaUhd.Edge.Cli/bin/Release/net10.0/llava-edge.dll)
out=${OUT:-artifacts/eval}
scenes=${SCENES:-100}
mkdir -p "$out"
"${cli[@]}" sample --dataset "$out/heldout" --count "$scenes" --seed 8
"${cli[@]}" sample --dataset "$out/heldout-roi" --count "$scenes" --seed 8 --roi
"${cli[@]}" sample --dataset "$out/calibration" --count 8 --seed 4242 --size 1280x720
pkg="$out/demo-smolvlm"
if [[ ! -f "$pkg/model.json" ]]; then
    "${cli[@]}" models generate --preset demo-smolvlm --out "$pkg"
fi
if ! grep -q '"qdq-int8"' "$pkg/model.json"; then
    "${cli[@]}" models quantize "$pkg" --calibration "$out/calibration/images" --per-channel
fi
if ! grep -q '"q4"' "$pkg/model.json"; then
    "${cli[@]}" models quantize "$pkg" --calibration "$out/calibration/images" --format q4
fi

results="$out/results.jsonl"
: > "$results"
run() {
    local name=$1 data=$2
    shift 2
    echo "eval: $name" >&2
    "${cli[@]}" eval "$out/$data/dataset.jsonl" --model "$pkg" --json "$@" | jq -c --arg name "$name" '{name: $name} + .' >> "$results"
}
run "fast" heldout --profile fast
run "balanced" heldout --profile balanced
run "detail (default)" heldout --profile detail
run "native region (code lines on the parcel)" heldout-roi --profile native
run "detail, overlap 0.1" heldout --profile detail --overlap 0.1
run "detail, aspect-preserving padding" heldout --profile detail --pad
run "detail, pruning 0.3" heldout --profile detail --prune 0.3
run "detail, pruning 0.5" heldout --profile detail --prune 0.5
run "detail, pruning 0.7" heldout --profile detail --prune 0.7
run "detail, qdq-int8" heldout --profile detail --variant qdq-int8
run "detail, q4" heldout --profile detail --variant q4
run "detail, token packet fp16" heldout --profile detail --packet fp16
run "detail, token packet int8" heldout --profile detail --packet int8
run "fast, qdq-int8" heldout --profile fast --variant qdq-int8

echo "| configuration | count | color | position | presence | code | all | visual tokens | p50 latency ms |"
echo "|---|---|---|---|---|---|---|---|---|"
jq -r '"| \(.name) | \(.by_type.count*100|round)% | \(.by_type.color*100|round)% | \(.by_type.position*100|round)% | \(.by_type.presence*100|round)% | \(.by_type.code*100|round)% | \(.accuracy*100|round)% | \(.visual_tokens_mean|round) | \(.latency_ms_p50|round) |"' "$results"
echo
echo "n = $(jq -s '.[0].n' "$results") questions ($scenes scenes, seed 8); CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"

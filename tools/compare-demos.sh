#!/usr/bin/env bash
# The three demo models side by side on one held-out set (seed 8: no trainer ever saw it), each at several visual
# budgets, for the README's comparison (docs/llava-uhd.md): accuracy per question type, visual tokens, encoder time,
# time to first token (medians of `eval --json`) and the eval process's peak RSS (GNU time). Writes
# $OUT/compare.jsonl and prints a Markdown table.
#
#   bash tools/compare-demos.sh              # 100 scenes
#   SCENES=30 bash tools/compare-demos.sh    # quicker
#   MODELS="demo:smolvlm demo:llava-uhd-v1" bash tools/compare-demos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tools/LlavaUhd.Edge.Cli -c Release --verbosity quiet -clp:ErrorsOnly
cli=(dotnet tools/LlavaUhd.Edge.Cli/bin/Release/net10.0/llava-edge.dll)
out=${OUT:-artifacts/compare}
scenes=${SCENES:-100}
models=${MODELS:-demo:smolvlm demo:llava-uhd-v1 demo:llava-uhd-v3}
mkdir -p "$out"
[[ -f "$out/heldout/dataset.jsonl" ]] || "${cli[@]}" sample --dataset "$out/heldout" --count "$scenes" --seed 8 >/dev/null
[[ -f "$out/heldout-roi/dataset.jsonl" ]] || "${cli[@]}" sample --dataset "$out/heldout-roi" --count "$scenes" --seed 8 --roi >/dev/null

results="$out/compare.jsonl"
: > "$results"
for model in $models; do
    "${cli[@]}" prompt "$out/heldout/images/$(ls "$out/heldout/images" | head -1)" "How many parcels are there?" --model "$model" >/dev/null  # built on first use, outside the timings
    for run in "fast heldout" "balanced heldout" "detail heldout" "native heldout-roi"; do
        set -- $run
        profile=$1 data=$2
        echo "eval: $model $profile" >&2
        json=$(/usr/bin/time -f '%M' -o "$out/rss.txt" "${cli[@]}" eval "$out/$data/dataset.jsonl" --model "$model" --profile "$profile" --json)
        jq -c --arg model "$model" --arg profile "$profile" --argjson rss "$(cat "$out/rss.txt")" \
            '{model: $model, profile: $profile, peak_rss_mb: ($rss / 1024 | round)} + .' <<< "$json" >> "$results"
    done
done

echo "| model | profile | count | color | position | presence | code | visual tokens | encode p50 ms | TTFT p50 ms | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
jq -r 'def pct(x): if x == null then "–" else "\(x * 100 | round)%" end;
    "| \(.model) | \(.profile) | \(pct(.by_type.count)) | \(pct(.by_type.color)) | \(pct(.by_type.position)) | \(pct(.by_type.presence)) | \(pct(.by_type.code)) | \(.visual_tokens_mean | round) | \(.encode_ms_p50) | \(.ttft_ms_p50) | \(.peak_rss_mb) |"' "$results"
echo
echo "n = $(jq -s '.[0].n' "$results") questions per frame run ($scenes scenes, seed 8; native: the region around the asked parcel, seed 8 --roi); CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"

#!/usr/bin/env bash
# The main job on a fresh machine. Until the service lands (issue 7) it runs the CLI end to end on a generated
# sample: writes a 1920x1080 sample image, prints its slice plans for every scheme and draws the overlays.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
dotnet build tools/LlavaUhd.Edge.Cli -c Release --no-restore --verbosity quiet -clp:ErrorsOnly
cli=(dotnet tools/LlavaUhd.Edge.Cli/bin/Release/net10.0/llava-edge.dll)
out=${OUT_DIR:-out}
mkdir -p "$out"
"${cli[@]}" sample --size 1920x1080 --out "$out/sample.png"
for scheme in minicpmv idefics3 llava-uhd-v1; do
    "${cli[@]}" plan --scheme "$scheme" --width 1920 --height 1080
    "${cli[@]}" slices "$out/sample.png" --scheme "$scheme" --out "$out/slices-$scheme.png"
done
echo "overlays written to $out/"

#!/usr/bin/env bash
# The main job on a fresh machine: sets everything up (tools/setup.sh), builds the CLI and the service, generates
# what the embedded defaults need if it is absent (.cache/sample-parcels.avi, a looping MJPG video of parcels on a
# conveyor as the camera, and .cache/models/demo-smolvlm, the trained demo model built from the weights in
# models-quantized/demo-smolvlm/), then runs the service with the embedded MQTT broker and the standing question
# "How many parcels are on the belt?" every 2 s. Answers appear in the log and on MQTT
# (llavauhd/edge-1/cam0/answer on 127.0.0.1:18830, user/password edge/edge).
#
#   bash tools/run.sh                      # stops after 3 answers (--max-answers 3)
#   MAX_ANSWERS=0 bash tools/run.sh        # runs until Ctrl+C
#   bash tools/run.sh --Service:Questions:0:IntervalSeconds=5 --Inference:Model=/path/to/package   # any override
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tools/LlavaUhd.Edge.Cli -c Release --no-restore --verbosity quiet -clp:ErrorsOnly
dotnet build src/LlavaUhd.Edge.Service -c Release --no-restore --verbosity quiet -clp:ErrorsOnly
cli=(dotnet tools/LlavaUhd.Edge.Cli/bin/Release/net10.0/llava-edge.dll)
mkdir -p .cache
if [[ ! -f .cache/sample-parcels.avi ]]; then
    "${cli[@]}" sample --video --size 1280x720 --frames 100 --fps 10 --out .cache/sample-parcels.avi
fi
# Rebuilt whenever the committed weights change (their sha256 is recorded beside the package) or the package predates
# the CPU variant.
demo=.cache/models/demo-smolvlm
if [[ ! -f $demo/model.json ]] || ! cmp -s models-quantized/demo-smolvlm/weights.sha256 "$demo/.weights.sha256" \
    || ! grep -q '"cpu-int8"' "$demo/model.json"; then
    rm -rf "$demo"
    "${cli[@]}" models generate --preset demo-smolvlm --out "$demo"
    # the CPU variant (fused decoder, flash-attention encoder) as the package's default: the same answers, a third
    # less time per answer (docs/demo-model.md)
    "${cli[@]}" models optimize "$demo" --bits 8 --default
    cp models-quantized/demo-smolvlm/weights.sha256 "$demo/.weights.sha256"
fi
# two glibc malloc arenas: native allocations (ONNX Runtime, OpenCV) from many threads otherwise fan out over up to
# 8 × cores arenas and RSS creeps up under load (docs/memory.md)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec dotnet src/LlavaUhd.Edge.Service/bin/Release/net10.0/LlavaUhd.Edge.Service.dll --max-answers "${MAX_ANSWERS:-3}" "$@"

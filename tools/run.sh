#!/usr/bin/env bash
# The main job on a fresh machine: sets everything up (tools/setup.sh), builds the CLI and the service, generates
# what the embedded defaults need if it is absent (.cache/sample.avi, a looping MJPG sample video as the camera, and
# .cache/models/tiny-smolvlm, a generated test model with random weights), then runs the service with the embedded
# MQTT broker and a standing question every 2 s. Answers appear in the log and on MQTT
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
if [[ ! -f .cache/sample.avi ]]; then
    "${cli[@]}" sample --video --size 1280x720 --frames 100 --fps 10 --out .cache/sample.avi
fi
if [[ ! -f .cache/models/tiny-smolvlm/model.json ]]; then
    rm -rf .cache/models/tiny-smolvlm
    "${cli[@]}" models generate --preset tiny-smolvlm --out .cache/models/tiny-smolvlm --seed 7
fi
exec dotnet src/LlavaUhd.Edge.Service/bin/Release/net10.0/LlavaUhd.Edge.Service.dll --max-answers "${MAX_ANSWERS:-3}" "$@"

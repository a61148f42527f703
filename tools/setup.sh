#!/usr/bin/env bash
# Installs what LlavaUhd.Edge needs on Debian/Ubuntu when it is missing, then restores the solution.
# As root it installs apt packages itself; otherwise it prints the apt-get line to run.
set -euo pipefail
cd "$(dirname "$0")/.."

# libgtk-3-0: OpenCvSharp's native runtime links against it. mosquitto: the real broker the messaging tests start.
# nodejs/npm: transformers.js, the reference consumer of the public SmolVLM export, for the conformance tests
# (only when no node is on the PATH already).
# ffmpeg: the decoder process for network cameras and H.264/H.265 files (docs/cameras.md). gst-launch-1.0 with the
# good/bad/libav plugins: the GStreamer decoder; with gir1.2-gst-rtsp-server-1.0 and python3-gi, the real RTSP server
# the camera tests start. chromium: the headless browser the status page test renders / in (docs/http.md).
PACKAGES=(libgtk-3-0 mosquitto mosquitto-clients ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-libav gir1.2-gst-rtsp-server-1.0 python3-gi chromium)
command -v node >/dev/null || PACKAGES+=(nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if ! command -v dotnet >/dev/null; then
    echo "setup: the .NET 10 SDK is not on PATH; install it (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
    exit 1
fi

# transformers.js and its ONNX Runtime for Node (tools/conformance/README.md), from the npm registry; scripts are not
# run (the packages carry their CPU binaries). Reinstalled only when package-lock.json changes.
conformance=tools/conformance
if [[ ! -f $conformance/node_modules/.package-lock.json || $conformance/package-lock.json -nt $conformance/node_modules/.package-lock.json ]]; then
    echo "setup: installing transformers.js for the conformance tests (npm ci)"
    (cd "$conformance" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore LlavaUhd.Edge.sln --verbosity quiet

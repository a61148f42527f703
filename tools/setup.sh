#!/usr/bin/env bash
# Installs what LlavaUhd.Edge needs on Debian/Ubuntu when it is missing, then restores the solution.
# As root it installs apt packages itself; otherwise it prints the apt-get line to run.
set -euo pipefail
cd "$(dirname "$0")/.."

# libgtk-3-0: OpenCvSharp's native runtime links against it. mosquitto: the real broker the messaging tests start.
PACKAGES=(libgtk-3-0 mosquitto mosquitto-clients)
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

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore LlavaUhd.Edge.sln --verbosity quiet

#!/usr/bin/env bash
# The CUDA check (docs/performance.md, "GPU"): on a machine with an NVIDIA GPU, runs the pipeline on ONNX Runtime's
# CUDA execution provider end to end in a few minutes and compares it with the CPU:
#   1. the machine: GPU, driver, the CUDA and cuDNN libraries it has;
#   2. which ONNX Runtime GPU build matches them (the managed package's version, CUDA 12 + cuDNN 9 for 1.2x–1.3x);
#   3. the native ONNX Runtime with the CUDA provider, from the NuGet cache, a NuGet restore, or pip's onnxruntime-gpu,
#      copied over the CPU build in a private copy of the CLI (the repository's build is left alone);
#   4. the answer on CUDA equal to the CPU's (tiny-smolvlm, greedy: the same token ids), encoder and decoder timings,
#      and time to first token for a 3840x2160 frame (smolvlm-256m-shape, random weights, real shapes).
# Usage: bash tools/gpu-check.sh [OUT_DIR]   (default $OUT or artifacts/gpu-check). Everything it finds and measures
# goes to OUT_DIR/summary.txt (and the JSON of each step); exit code 0 when CUDA ran and matched the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-artifacts/gpu-check}}
mkdir -p "$out"
: > "$out/summary.txt"
log() { echo "gpu-check: $*" | tee -a "$out/summary.txt"; }
fail() { log "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------- 1. the machine
command -v nvidia-smi >/dev/null || fail "no nvidia-smi: not an NVIDIA GPU machine (or the driver is not installed)"
log "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
cuda_driver=$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)
log "driver supports CUDA up to ${cuda_driver:-?}"
lib_dirs=$( { ldconfig -p 2>/dev/null | awk '{print $NF}' | xargs -r -n1 dirname;
              ls -d /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu 2>/dev/null;
              find /usr /opt /root /home -type d -path '*site-packages/nvidia/*/lib' -print 2>/dev/null; } | sort -u)
find_lib() { for d in $lib_dirs; do ls "$d"/$1 2>/dev/null; done | sort -V | tail -1; }
cudart=$(find_lib 'libcudart.so.*'); cublas=$(find_lib 'libcublas.so.*'); cudnn=$(find_lib 'libcudnn.so.*')
log "libcudart: ${cudart:-none}"; log "libcublas: ${cublas:-none}"; log "libcudnn: ${cudnn:-none}"
cuda_major=$(basename "${cudart:-libcudart.so.0}" | sed -n 's/libcudart\.so\.\([0-9]*\).*/\1/p')
cudnn_major=$(basename "${cudnn:-libcudnn.so.0}" | sed -n 's/libcudnn\.so\.\([0-9]*\).*/\1/p')

# ---------------------------------------------------------------- 2. the matching ONNX Runtime GPU build
ort=$(sed -n 's/.*Include="Microsoft.ML.OnnxRuntime" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
log "managed ONNX Runtime ${ort}: its Linux GPU build (Microsoft.ML.OnnxRuntime.Gpu.Linux ${ort}) needs CUDA 12.x and cuDNN 9.x"
if [[ "${cuda_major:-0}" != 12 || "${cudnn_major:-0}" != 9 ]]; then
    log "this machine has CUDA ${cuda_major:-none} / cuDNN ${cudnn_major:-none}: the CUDA provider will not load unless"
    log "  matching libraries are on LD_LIBRARY_PATH (pip: nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 nvidia-cudnn-cu12)"
fi
for l in "$cudart" "$cublas" "$cudnn"; do [[ -n "$l" ]] && export LD_LIBRARY_PATH="$(dirname "$l")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done

# ---------------------------------------------------------------- 3. native ONNX Runtime with the CUDA provider
gpu_native=""
nuget_dir="${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.onnxruntime.gpu.linux/${ort}/runtimes/linux-x64/native"
if [[ ! -f "$nuget_dir/libonnxruntime_providers_cuda.so" ]] && command -v dotnet >/dev/null; then
    probe="$out/restore-gpu"; mkdir -p "$probe"
    cat > "$probe/probe.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
<ItemGroup><PackageReference Include="Microsoft.ML.OnnxRuntime.Gpu.Linux" Version="${ort}" /></ItemGroup></Project>
EOF
    (cd "$probe" && timeout 300 dotnet restore -v q >/dev/null 2>&1) && log "restored Microsoft.ML.OnnxRuntime.Gpu.Linux ${ort} from NuGet" || log "NuGet restore of the GPU package failed (no registry?)"
fi
[[ -f "$nuget_dir/libonnxruntime_providers_cuda.so" ]] && gpu_native="$nuget_dir"
if [[ -z "$gpu_native" ]]; then
    pip_dir=$(find /usr /opt /root /home -name libonnxruntime_providers_cuda.so -print 2>/dev/null | head -1)
    [[ -n "$pip_dir" ]] && gpu_native=$(dirname "$pip_dir")
fi
[[ -n "$gpu_native" ]] || fail "no libonnxruntime_providers_cuda.so found (NuGet cache, restore, pip onnxruntime-gpu)"
log "CUDA provider libraries: $gpu_native"

# ---------------------------------------------------------------- 4. build, a private copy of the CLI with the GPU natives
if [[ ! -f tools/LlavaUhd.Edge.Cli/bin/Release/net10.0/llava-edge.dll ]]; then
    dotnet build tools/LlavaUhd.Edge.Cli -c Release -clp:ErrorsOnly -v q || fail "build"
fi
app="$out/cli"; rm -rf "$app"; cp -r tools/LlavaUhd.Edge.Cli/bin/Release/net10.0 "$app"
native="$app/runtimes/linux-x64/native"
for f in "$gpu_native"/libonnxruntime*.so*; do cp -L "$f" "$native/"; done
cli() { dotnet "$app/llava-edge.dll" "$@"; }

models="$out/models"; mkdir -p "$models"
[[ -d "$models/tiny" ]] || cli models generate --preset tiny-smolvlm --out "$models/tiny" >/dev/null || fail "generate tiny-smolvlm"
cli sample --out "$out/frame4k.png" --size 3840x2160 >/dev/null || fail "sample frame"

# the same greedy answer on the CPU and on CUDA
cli ask "$out/frame4k.png" "What is on the belt?" --model "$models/tiny" --max-new-tokens 16 --json --providers cpu > "$out/ask-cpu.json" || fail "ask on the CPU"
if ! cli ask "$out/frame4k.png" "What is on the belt?" --model "$models/tiny" --max-new-tokens 16 --json --providers cuda,cpu --require cuda > "$out/ask-cuda.json" 2> "$out/ask-cuda.err"; then
    log "ask on CUDA failed: $(tail -3 "$out/ask-cuda.err")"; fail "CUDA provider"
fi
ids() { sed -n 's/.*"token_ids":\[\([^]]*\)\].*/\1/p' "$1"; }
log "CPU  answer: $(sed -n 's/.*"answer":"\([^"]*\)".*/\1/p' "$out/ask-cpu.json") (ids $(ids "$out/ask-cpu.json"))"
log "CUDA answer: $(sed -n 's/.*"answer":"\([^"]*\)".*/\1/p' "$out/ask-cuda.json") (ids $(ids "$out/ask-cuda.json")), provider $(sed -n 's/.*"provider":"\([^"]*\)".*/\1/p' "$out/ask-cuda.json")"
same=0; [[ "$(ids "$out/ask-cpu.json")" == "$(ids "$out/ask-cuda.json")" ]] && same=1
log "same greedy tokens on CUDA and CPU: $([[ $same == 1 ]] && echo yes || echo NO)"

# timings at the real shapes: encoder, TTFT, decode for a 4K frame, CUDA then CPU
[[ -d "$models/s256" ]] || cli models generate --preset smolvlm-256m-shape --out "$models/s256" >/dev/null || fail "generate smolvlm-256m-shape"
for p in cuda cpu; do
    req=(); [[ $p == cuda ]] && req=(--require cuda)
    if timeout 600 dotnet "$app/llava-edge.dll" bench decode --model "$models/s256" --size 3840x2160 --new-tokens 32 --runs 2 --json --providers "$p" "${req[@]}" > "$out/bench-$p.json" 2> "$out/bench-$p.err"; then
        log "bench decode 3840x2160 on $p: $(cat "$out/bench-$p.json")"
    else
        log "bench decode on $p did not finish: $(tail -2 "$out/bench-$p.err")"
    fi
done

[[ $same == 1 ]] || fail "CUDA and CPU answers differ"
log "done"

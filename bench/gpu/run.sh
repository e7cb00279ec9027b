#!/usr/bin/env bash
# Issue 6's GPU measurement in one call of the device tool, after bench/gpu/prepare.sh here:
#   run(command="bash bench/gpu/run.sh", carry=[".gpu"], timeout_s=540)
# On the GPU machine: the loaders, Deno from the kit, a WebGPU adapter probe (Vulkan, the NVIDIA
# ICD), PyTorch CUDA eager alone, then `deno task bench` on webgpu against PyTorch CUDA for A, B
# and C, and `deno task profile` of A and C on webgpu. Every step has its own time limit, so a
# hang costs one step; about 5 minutes in all when nothing hangs.
#
# Writes to $OUT (the device tool's folder; runs/gpu elsewhere): log.txt, adapter.json,
# torch_cuda.jsonl, bench.jsonl, profile_A.txt, profile_C.txt.
# ELBO_GPU_KIT_FALLBACK=1 goes on with a software adapter (to try the kit on a machine without a GPU).
set -uo pipefail
cd "$(dirname "$0")/../.."
kit=.gpu
out=${OUT:-runs/gpu}
mkdir -p "$out"
say() { echo "== $(date -u +%H:%M:%S) $*"; }

measure() {

if [ ! -f "$kit/deno.xz" ] || [ ! -f "$kit/bench.js" ]; then
  echo "Cannot run the GPU measurement as $kit/ is incomplete: run bench/gpu/prepare.sh first and name .gpu in carry"
  return 2
fi
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in "$kit"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
fi
deno=/tmp/elbo-deno
if [ ! -x "$deno" ]; then
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
    "$kit/deno.xz" "$deno" && chmod +x "$deno"
fi
"$deno" --version | head -1

# The adapter Deno gets: JSON with its info, or null. Vulkan only, so a missing driver shows as
# null rather than as a silent GL fallback.
export DENO_WEBGPU_BACKEND=vulkan
probe() {
  timeout 60 "$deno" eval '
    const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
    const i = a?.info;
    console.log(JSON.stringify(a ? {
      vendor: i.vendor, architecture: i.architecture, device: i.device,
      description: i.description, isFallbackAdapter: i.isFallbackAdapter,
      features: [...a.features].sort(),
      limits: Object.fromEntries(["maxStorageBuffersPerShaderStage", "maxBufferSize",
        "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
        "maxComputeInvocationsPerWorkgroup"].map((k) => [k, a.limits[k]])),
    } : null));'
}
hardware() { grep -q '"isFallbackAdapter":false' <<<"$1" && ! grep -qiE 'llvmpipe|lavapipe|softpipe|swiftshader' <<<"$1"; }
say "probe (default ICD search)"
adapter=$(probe)
echo "$adapter"
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ! hardware "$adapter" && [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  say "probe (VK_DRIVER_FILES=$icd)"
  adapter=$(probe)
  echo "$adapter"
fi
echo "$adapter" >"$out/adapter.json"

say "PyTorch CUDA eager alone: A, B, C"
for w in A B C; do
  timeout 120 python3 "$kit/torch_reference.py" --workload "$w" --device cuda >>"$out/torch_cuda.jsonl"
done

if ! hardware "$adapter"; then
  if [ "${ELBO_GPU_KIT_FALLBACK:-0}" != 1 ]; then
    say "Cannot measure webgpu as Deno found no hardware adapter (above): see ../shared/research/ecosystem.md §6"
    return 1
  fi
  say "no hardware adapter: going on with the software one (ELBO_GPU_KIT_FALLBACK=1)"
  unset DENO_WEBGPU_BACKEND VK_DRIVER_FILES VK_ICD_FILENAMES __EGL_VENDOR_LIBRARY_FILENAMES
fi

# Warm-up and steps per window: the bench's webgpu defaults are sized for the software adapter.
for spec in "A 20 100" "B 50 300" "C 5 30"; do
  read -r w warmup steps <<<"$spec"
  [ "${ELBO_GPU_KIT_FALLBACK:-0}" = 1 ] && warmup=1 steps=2
  say "bench $w on webgpu against PyTorch CUDA (warm-up $warmup, $steps steps per window)"
  timeout 180 "$deno" run -A "$kit/bench.js" --backend webgpu --workload "$w" --torch-device cuda \
    --warmup "$warmup" --steps "$steps" --json >>"$out/bench.jsonl"
done
for w in A C; do
  say "profile $w on webgpu"
  timeout 120 "$deno" run -A "$kit/profile.js" --backend webgpu --workload "$w" --warmup 3 \
    --steps 5 --top 25 >"$out/profile_$w.txt"
done
say "done"
}

# Everything also goes to log.txt; the pipeline (unlike `exec > >(tee …)`) waits for tee to finish.
measure 2>&1 | tee -a "$out/log.txt"
exit "${PIPESTATUS[0]}"

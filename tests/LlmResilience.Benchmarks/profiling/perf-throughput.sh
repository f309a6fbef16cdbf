#!/usr/bin/env bash
# CPU profile of a --throughput run with Linux perf, sliced per client round (see ../README.md, "Where the CPU goes").
#
#   tests/LlmResilience.Benchmarks/profiling/perf-throughput.sh OUTDIR [--throughput options]
#   e.g. ... perf-throughput.sh /tmp/prof --clients BareFactory,OursDI --rounds 3 --seconds 6 --warmup-seconds 30
#
# Needs perf (Debian: linux-perf) and root (or perf_event_paranoid <= 1), python3 for perf_buckets.py. Builds nothing:
# run `dotnet build -c Release tests/LlmResilience.Benchmarks` first. Writes OUTDIR/run.out (the benchmark's tables),
# OUTDIR/windows.txt (each round's CLOCK_MONOTONIC window), OUTDIR/perf.data and OUTDIR/perf.script (large: keep them
# out of git), then prints the per-client breakdown.
#
# The runtime settings are for readable stacks, the same for every client:
#   DOTNET_PerfMapEnabled=1          JIT'd code's names in /tmp/perf-PID.map for perf;
#   DOTNET_EnableWriteXorExecute=0   JIT'd code at the addresses the map names (W^X maps it twice);
#   DOTNET_ReadyToRun=0              the framework JIT'd too, so its frames have names (precompiled code has none in the map);
#   DOTNET_TC_CallCountingDelayMs=0  tier-up sooner, so the warm-up ends with everything at tier 1.
set -euo pipefail
out=${1:?usage: perf-throughput.sh OUTDIR [--throughput options]}
shift
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../../.." && pwd)
dll="$root/tests/LlmResilience.Benchmarks/bin/Release/net10.0/LlmResilience.Benchmarks.dll"
clients=$(printf '%s\n' "$@" | awk 'prev=="--clients"||prev=="--only"{print} {prev=$0}')
clients=${clients:-BareFactory,PollyFactory,OursDI,HandlerOnlyDI,OursDINoLoggers}
count=$(tr ',' '\n' <<<"$clients" | wc -l)

DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_ReadyToRun=0 DOTNET_TC_CallCountingDelayMs=0 \
  dotnet "$dll" --throughput --round-times "$@" >"$out/run.out" 2>"$out/windows.txt" &
app=$!
# Record the rounds only: start once every client has had its warm-up.
until [ "$(grep -c '^warm-up ' "$out/run.out" || true)" -ge "$count" ]; do
  kill -0 "$app" 2>/dev/null || { cat "$out/run.out" "$out/windows.txt"; exit 1; }
  sleep 0.2
done
perf record -k CLOCK_MONOTONIC -e cpu-clock -F 499 -g -p "$app" -o "$out/perf.data" >"$out/perf.log" 2>&1
wait "$app"
perf script -i "$out/perf.data" -F comm,tid,time,period,ip,sym,dso >"$out/perf.script" 2>/dev/null
python3 "$(dirname "$0")/perf_buckets.py" "$out/perf.script" "$out/windows.txt" --hz 499

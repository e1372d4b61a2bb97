#!/bin/sh
# Evaluation benchmark (not a test): hac vs Nix on a generated 20,000-node cluster.
#
#   scripts/bench-eval.sh [NODE-COUNT]     (default 20000)
#
# 1. generates the cluster with benchmarks/eval/gen-cluster.sh (builtins only, valid for
#    both evaluators) and checks that both print the same JSON;
# 2. builds hac in release mode;
# 3. prints the wall time (hyperfine) and peak RSS (/usr/bin/time -f %M, or VmHWM from
#    /proc when GNU time is missing) of `hac eval --json` and of
#    `nix-instantiate --eval --strict --json`, and the ratios hac/Nix.
# Needs nix-instantiate, hyperfine, python3 (scripts/install-test-deps.sh installs them).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-20000}
for tool in nix-instantiate hyperfine python3 cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-eval: $tool is missing: run scripts/install-test-deps.sh" >&2; exit 3; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
input="$work/cluster.ha"
"$root/benchmarks/eval/gen-cluster.sh" "$count" > "$input"
echo "input: $count nodes, $(wc -c < "$input") bytes of .ha"

echo "building hac (release)…"
(cd "$root" && cargo build --release --quiet --bin hac)
hac="${CARGO_TARGET_DIR:-$root/target}/release/hac"

# Both evaluators must agree before their speed means anything.
"$hac" eval --json "$input" > "$work/hac.json"
nix-instantiate --eval --strict --json "$input" 2>/dev/null > "$work/nix.json"
python3 - "$work/hac.json" "$work/nix.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if a != b:
    sys.exit("bench-eval: hac and Nix print different values for the benchmark input")
print("check: hac and Nix print the same value")
PY

# Peak resident set size in KiB of one run of "$@".
peak_rss() {
  if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
    /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1
    tail -n 1 "$work/rss"
  else
    "$@" >/dev/null 2>&1 &
    pid=$!
    hwm=0
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
      sleep 0.01
    done
    wait "$pid" || true
    echo "$hwm"
  fi
}

hyperfine --warmup 2 --min-runs 10 --style basic --export-json "$work/times.json" \
  -n hac "$hac eval --json $input" \
  -n nix "nix-instantiate --eval --strict --json $input"

hac_rss=$(peak_rss "$hac" eval --json "$input")
nix_rss=$(peak_rss nix-instantiate --eval --strict --json "$input")

python3 - "$work/times.json" "$hac_rss" "$nix_rss" "$count" <<'PY'
import json, sys
times = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
hac_rss, nix_rss, count = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
h, n = times["hac"], times["nix"]
print()
print(f"| {count} nodes | wall time (mean ± σ) | user CPU (mean) | peak RSS |")
print("|---|---|---|---|")
print(f"| hac eval --json | {h['mean']*1000:.0f} ms ± {h['stddev']*1000:.0f} | {h['user']*1000:.0f} ms | {hac_rss/1024:.0f} MiB |")
print(f"| nix-instantiate --eval --strict --json | {n['mean']*1000:.0f} ms ± {n['stddev']*1000:.0f} | {n['user']*1000:.0f} ms | {nix_rss/1024:.0f} MiB |")
print(f"| ratio hac / Nix | {h['mean']/n['mean']:.2f} | {h['user']/max(n['user'],1e-9):.2f} | {hac_rss/max(nix_rss,1):.2f} |")
PY

# shellcheck shell=bash
# bench/k8s-lib.sh — shared by bench/operator-100.sh and bench/operator-floor.sh (sourced;
# needs $state, the control-plane state dir of hack/k8s/up.sh, and kubectl on PATH).

# CPU seconds (user + system) the control-plane processes have used so far, as
# "name=seconds ..." (from the pids file hack/k8s/up.sh writes).
cp_cpu() {
  local name pid _ ticks hz
  hz=$(getconf CLK_TCK)
  while read -r name pid _; do
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    printf '%s=%s ' "$name" "$(echo "scale=1; $ticks / $hz" | bc)"
  done <"${state:?}/pids"
}

# Per-process and total difference of two cp_cpu outputs.
cp_cpu_delta() {
  python3 -c '
import sys
a = dict(kv.split("=") for kv in sys.argv[1].split())
b = dict(kv.split("=") for kv in sys.argv[2].split())
d = {k: float(b[k]) - float(a.get(k, 0)) for k in b}
print(" ".join(f"{k} {v:.0f}" for k, v in d.items()) + f"; total {sum(d.values()):.0f} s")' "$1" "$2"
}

# The API server's request counters, to FILE (diffed by bench/api-requests-delta.py).
api_requests() {
  kubectl get --raw /metrics | grep '^apiserver_request_total' >"$1"
}

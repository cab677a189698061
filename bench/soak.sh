#!/usr/bin/env bash
# Soak: DURATION of mixed traffic at a bounded rate through a real `ztgw run` (Release), then a SIGKILL under load
# and a restart on the same state folder and audit file. Checks that nothing is lost: every answer a client got is
# in the audit file exactly once, no 5xx but the provoked ones, resident memory flat after warm-up, policy reloads
# and SETs taken, the state journal replayed and a revocation from before the kill still in force.
# Loopback only; every loop is bounded by DURATION. Prints a summary, writes bench/results/soak-<time>.json, keeps
# every log in its work folder, and exits non-zero when a check fails. See bench/README.md, "Soak".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-10m}         # traffic before the crash test (memory is judged from 10m on)
RATE=${RATE:-300}                 # requests per second, all kinds together
CONCURRENCY=${CONCURRENCY:-32}    # requests in flight at most
SET_EVERY=${SET_EVERY:-5s}        # a session-revoked SET for the revoked user this often
RELOAD_EVERY=${RELOAD_EVERY:-30}  # seconds between policy edits
MEMORY_EVERY=${MEMORY_EVERY:-5}   # seconds between VmRSS samples
GROWTH_PCT=${GROWTH_PCT:-15}      # most the last minute's average VmRSS may exceed the first minute's after the 5-minute warm-up
CRASH=${CRASH:-1}                 # 0 skips the SIGKILL and restart
AFTER_RESTART=${AFTER_RESTART:-15} # seconds of traffic after the restarted gateway is ready
DISTINCT=${DISTINCT:-2000}        # distinct tokens of the finance user
PORT_BASE=${PORT_BASE:-18300}     # upstream, finance, hr, management, dead upstream: PORT_BASE .. PORT_BASE+4

seconds() { # 90s, 10m, 1h, or plain seconds
  case "$1" in
    *ms) echo "$(( ${1%ms} / 1000 ))" ;; *s) echo "${1%s}" ;; *m) echo "$(( ${1%m} * 60 ))" ;; *h) echo "$(( ${1%h} * 3600 ))" ;; *) echo "$1" ;;
  esac
}
soak_s=$(seconds "$DURATION")
[ "$soak_s" -ge 20 ] || { echo "DURATION must be at least 20s" >&2; exit 2; }

UPSTREAM=127.0.0.1:$PORT_BASE FINANCE=127.0.0.1:$((PORT_BASE + 1)) HR=127.0.0.1:$((PORT_BASE + 2))
MANAGEMENT=127.0.0.1:$((PORT_BASE + 3)) DEAD=127.0.0.1:$((PORT_BASE + 4))
for address in "$UPSTREAM" "$FINANCE" "$HR" "$MANAGEMENT" "$DEAD"; do
  if (exec 3<>"/dev/tcp/${address%:*}/${address#*:}") 2>/dev/null; then
    echo "something already listens on $address; set PORT_BASE to a free range" >&2; exit 2
  fi
done

if ! command -v nginx >/dev/null 2>&1; then
  echo "installing nginx" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi

work=$(mktemp -d /tmp/ztgw-soak.XXXXXX)
echo "work folder: $work" >&2
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/gw.pid" ] && kill "$(cat "$work/gw.pid")" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

now_us() { date +%s%6N; }
event() { printf '%s\t%s\t%s\n' "$1" "$(now_us)" "${2:-}" >>"$work/events.tsv"; }
: >"$work/events.tsv"

echo "building (Release)" >&2
dotnet build -c Release -v q -nologo src/ZtGateway.Cli/ZtGateway.Cli.csproj >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
dotnet build -c Release -v q -nologo bench/SoakClient/SoakClient.csproj >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
ztgw_dll="$root/src/ZtGateway.Cli/bin/Release/net10.0/ztgw.dll"
client_dll="$root/bench/SoakClient/bin/Release/net10.0/SoakClient.dll"
ztgw() { dotnet "$ztgw_dll" "$@"; }

# The upstream: nginx answering `ok`, keep-alive. DEAD has nothing listening on purpose (the provoked 5xx).
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server { listen $UPSTREAM; location / { default_type text/plain; return 200 "ok\n"; } }
}
NGINX
nginx -c "$work/nginx.conf"

# Two segments. finance: the ledger (allowed to finance staff from finance devices) and the vault, whose only
# destination is a closed port. hr: payroll, for hr staff only, so a finance user there is segment-not-allowed.
gw="$work/gw"
mkdir -p "$gw/segments"
cat >"$gw/gateway.yaml" <<YAML
gateway:
  policyDir: segments
  stateDir: state
  management: { listen: "http://$MANAGEMENT" }
identity:
  issuers:
    - { name: soak, type: jwks, issuer: https://idp.soak, jwksFile: keys/idp.jwks.json, audiences: [ztgw] }
device:
  maxAge: 1h
  issuers:
    - { issuer: https://posture.soak, jwksFile: keys/posture.jwks.json }
signals:
  transmitters:
    - { issuer: https://edr.soak, jwksFile: keys/signals.jwks.json, audience: ztgw }
assertion: { issuer: https://ztgw.soak, signingKeyFile: keys/gateway-signing.pem }
audit: { sinks: ["file:$work/audit.jsonl"] }
YAML
finance_segment() { # $1: the edit number, in the description so that every edit is a new policy version
  cat <<YAML
segment: finance
description: "soak edit $1"
listen: http://$FINANCE
services:
  ledger: { destinations: ["http://$UPSTREAM"] }
  vault: { destinations: ["http://$DEAD"] }
routes:
  - id: ledger
    match: { path: "/ledger/{**rest}" }
    service: ledger
    allow: [ { name: staff, from: [finance], users: { groups: [finance-staff] } } ]
  - id: vault
    match: { path: "/vault/{**rest}" }
    service: vault
    allow: [ { name: staff, from: [finance], users: { groups: [finance-staff] } } ]
YAML
}
finance_segment 0 >"$gw/segments/finance.yaml"
cat >"$gw/segments/hr.yaml" <<YAML
segment: hr
listen: http://$HR
services: { payroll: { destinations: ["http://$UPSTREAM"] } }
routes:
  - id: payroll
    match: { path: "/payroll/{**rest}" }
    service: payroll
    allow: [ { name: hr-staff, from: [hr], users: { groups: [hr-staff] } } ]
YAML

ztgw dev keys --config "$gw/gateway.yaml" >/dev/null
material="$work/material"
mkdir -p "$material"
ztgw dev token --config "$gw/gateway.yaml" --sub alice --groups finance-staff --amr pwd,mfa --auth-age 1m --lifetime 2h >"$material/alice.jwt"
ztgw dev token --config "$gw/gateway.yaml" --sub alice --groups finance-staff --amr pwd,mfa --auth-age 1m --lifetime 2h --count "$DISTINCT" >"$material/distinct.txt"
ztgw dev token --config "$gw/gateway.yaml" --sub bob --groups finance-staff --amr pwd --auth-age 1m --lifetime 2h >"$material/nomfa.jwt"
ztgw dev posture --config "$gw/gateway.yaml" --device laptop-7 --segment finance --compliant --managed --risk low --lifetime 1h >"$material/posture.jwt"

start_gateway() { # $1: log file
  dotnet "$ztgw_dll" run --config "$gw/gateway.yaml" >>"$work/gateway.out" 2>"$work/$1" &
  echo $! >"$work/gw.pid"
}
wait_ready() {
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "http://$MANAGEMENT/readyz" && return 0
    kill -0 "$(cat "$work/gw.pid")" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_gateway gateway.log
event gateway-start "$(cat "$work/gw.pid")"
wait_ready || { echo "the gateway did not get ready; see $work/gateway.log" >&2; tail -20 "$work/gateway.log" >&2; exit 1; }

# VmRSS (and CPU time, user + system, in clock ticks) of whichever gateway process runs, every MEMORY_EVERY
# seconds, until the script ends.
printf 'unix_us\tpid\trss_kb\tcpu_ticks\n' >"$work/memory.tsv"
(
  while :; do
    pid=$(cat "$work/gw.pid" 2>/dev/null || true)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true)
    [ -n "$rss" ] && [ -n "$ticks" ] && printf '%s\t%s\t%s\t%s\n' "$(now_us)" "$pid" "$rss" "$ticks" >>"$work/memory.tsv"
    sleep "$MEMORY_EVERY"
  done
) &
pids+=("$!")

# The client runs through the soak and the crash test; the stop file ends it, its own cap bounds it regardless.
mkdir -p "$work/client"
dotnet "$client_dll" drive --finance "http://$FINANCE" --hr "http://$HR" --management "http://$MANAGEMENT" \
  --material "$material" --ztgw "$ztgw_dll" --config "$gw/gateway.yaml" --out "$work/client" \
  --rate "$RATE" --concurrency "$CONCURRENCY" --set-every "$SET_EVERY" \
  --duration "$((soak_s + AFTER_RESTART + 180))s" --stop-file "$work/client/stop" >"$work/client.out" 2>"$work/client.log" &
client_pid=$!; pids+=("$client_pid")
for _ in $(seq 1 600); do
  grep -q '^driving ' "$work/client.log" 2>/dev/null && break
  kill -0 "$client_pid" 2>/dev/null || { echo "the load client stopped before the soak began:" >&2; cat "$work/client.log" >&2; exit 1; }
  sleep 0.1
done
grep -q '^driving ' "$work/client.log" || { echo "the load client did not start driving; see $work/client.log" >&2; exit 1; }
sed -n '/^preflight/p; /^driving/p' "$work/client.log" >&2
event soak-start
soak_end=$(( $(date +%s) + soak_s ))

# A policy edit every RELOAD_EVERY seconds, written beside the policy folder and renamed into it, so the gateway
# never reads half a file; the last one at least 5 s before the soak ends.
(
  edit=0
  while sleep "$RELOAD_EVERY"; do
    [ $(( $(date +%s) + 5 )) -lt "$soak_end" ] || break
    edit=$((edit + 1))
    finance_segment "$edit" >"$gw/finance.yaml.next"
    mv "$gw/finance.yaml.next" "$gw/segments/finance.yaml"
    event reload "$edit"
  done
) &
reloader_pid=$!; pids+=("$reloader_pid")

echo "soaking for $DURATION at $RATE req/s" >&2
while [ "$(date +%s)" -lt "$soak_end" ]; do
  kill -0 "$client_pid" 2>/dev/null || { echo "the load client stopped during the soak; see $work/client.log" >&2; exit 1; }
  kill -0 "$(cat "$work/gw.pid")" 2>/dev/null || { echo "the gateway died during the soak; see $work/gateway.log" >&2; exit 1; }
  sleep 1
done
event soak-end
wait "$reloader_pid" 2>/dev/null || true
curl -sf "http://$MANAGEMENT/metrics" >"$work/metrics.txt" || echo "could not scrape /metrics" >&2

if [ "$CRASH" = 1 ]; then
  # SIGKILL under load, within a second after a revocation was acknowledged: that revocation must be in the journal.
  acked() { grep -c $'\t202\t' "$work/client/sets.tsv" || true; }
  before=$(acked)
  for _ in $(seq 1 $(( $(seconds "$SET_EVERY") * 40 + 200 ))); do [ "$(acked)" -gt "$before" ] && break; sleep 0.05; done
  sleep "0.$(( RANDOM % 9 + 1 ))"
  victim=$(cat "$work/gw.pid")
  event kill "$victim"
  kill -KILL "$victim"
  wait "$victim" 2>/dev/null || true
  event journal-lines "$(wc -l <"$gw/state/ztgw-state.jsonl")"
  echo "killed the gateway (pid $victim) with SIGKILL; restarting it on the same state folder and audit file" >&2
  sleep 2
  start_gateway gateway-restart.log
  event gateway-restart "$(cat "$work/gw.pid")"
  if wait_ready; then
    event restart-ready
  else
    echo "the restarted gateway did not get ready; see $work/gateway-restart.log" >&2
  fi
  sleep "$AFTER_RESTART"
fi

touch "$work/client/stop"
client_rc=0; wait "$client_pid" || client_rc=$?
[ "$client_rc" = 0 ] || echo "the load client exited $client_rc; see $work/client.log" >&2
sed -n '/^sent /,$p' "$work/client.log" >&2

gateway_rc=0
gw_pid=$(cat "$work/gw.pid")
if kill -TERM "$gw_pid" 2>/dev/null; then wait "$gw_pid" || gateway_rc=$?; else gateway_rc=255; fi
event gateway-exit "$gateway_rc"
rm -f "$work/gw.pid"

mkdir -p "$root/bench/results"
result="$root/bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ).json"
check_rc=0
dotnet "$client_dll" check --work "$work" --result "$result" --rate "$RATE" --growth-pct "$GROWTH_PCT" --clock-ticks "$(getconf CLK_TCK)" || check_rc=$?
echo "logs, audit file and state journal: $work" >&2
[ "$client_rc" = 0 ] || exit 1
exit "$check_rc"

#!/usr/bin/env bash
# Side-by-side load benchmark: the same nginx upstream reached directly, through nginx, through a bare YARP
# proxy, through YARP with ASP.NET Core's JwtBearer handler (what a team would build instead), and through ZtGateway
# with its full policy (reused and distinct tokens, and with shared state on Redis). Interleaved and repeated;
# prints a table and the issue's targets, met or not, and writes bench/results/<time>.json. Loopback only; every
# run is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-4s}      # per measurement
ROUNDS=${ROUNDS:-8}           # interleaved repetitions of every target: many short rounds follow a machine whose speed drifts
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
DISTINCT=${DISTINCT:-2000}    # tokens in the distinct-token run
WARMUP=${WARMUP:-30s}         # load on each .NET proxy before anything is recorded (JIT tiering, pools, caches)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx || ! need redis-server; then
  echo "installing wrk, nginx and redis-server" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx redis-server >/dev/null
fi

work=$(mktemp -d /tmp/ztgw-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

UPSTREAM=127.0.0.1:18080; NGINX=127.0.0.1:18081; BARE=127.0.0.1:18082; GATEWAY=127.0.0.1:18083; DENIES=127.0.0.1:18085
JWTB=127.0.0.1:18092

echo "building (Release)" >&2
dotnet build -c Release -v q -nologo src/ZtGateway.Cli/ZtGateway.Cli.csproj >/dev/null
dotnet build -c Release -v q -nologo bench/BareProxy/BareProxy.csproj >/dev/null
dotnet build -c Release -v q -nologo bench/JwtBearerProxy/JwtBearerProxy.csproj >/dev/null
ztgw() { dotnet "$root/src/ZtGateway.Cli/bin/Release/net10.0/ztgw.dll" "$@"; }

# nginx: the upstream (small body, keep-alive) and a plain reverse proxy in front of it.
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<NGINX
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
  upstream app { server $UPSTREAM; keepalive 128; }
  server {
    listen $NGINX;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -c "$work/nginx.conf"

dotnet "$root/bench/BareProxy/bin/Release/net10.0/BareProxy.dll" --urls "http://$BARE" --upstream "http://$UPSTREAM" >"$work/bare.log" 2>&1 &
bare_pid=$!; pids+=("$bare_pid")

# The gateway's full policy: a finance user with MFA on a compliant finance laptop calling an hr route
# that names finance, with device posture, upstream assertion and audit to a file.
mkdir -p "$work/gw/segments"
cat > "$work/gw/gateway.yaml" <<YAML
gateway:
  policyDir: segments
  management: { listen: "" }
identity:
  issuers:
    - { name: bench, type: jwks, issuer: https://idp.bench, jwksFile: keys/idp.jwks.json, audiences: [ztgw] }
device:
  maxAge: 1h                      # a long run must not outlive its device assertion
  issuers:
    - { issuer: https://posture.bench, jwksFile: keys/posture.jwks.json }
assertion: { issuer: https://ztgw.bench, signingKeyFile: keys/gateway-signing.pem }
audit: { sinks: ["file:$work/audit.jsonl"] }
YAML
cat > "$work/gw/segments/finance.yaml" <<YAML
segment: finance
listen: http://127.0.0.1:18084
services: { ledger: { destinations: ["http://$UPSTREAM"] } }
routes:
  - id: ledger
    match: { path: "/{**rest}" }
    service: ledger
    allow: [ { name: staff, from: [finance], users: { groups: [finance-staff] } } ]
YAML
cat > "$work/gw/segments/hr.yaml" <<YAML
segment: hr
listen: http://$GATEWAY
services: { payroll: { destinations: ["http://$UPSTREAM"] } }
routes:
  - id: payroll-read
    match: { path: "/{**rest}", methods: [GET] }
    service: payroll
    allow:
      - { name: finance-auditors, from: [finance], users: { groups: [finance-auditors] }, maxAuthAge: 1h, device: { compliant: true, managed: true, maxRisk: low } }
YAML
ztgw dev keys --config "$work/gw/gateway.yaml" >/dev/null
token=$(ztgw dev token --config "$work/gw/gateway.yaml" --sub alice --groups finance-auditors --amr pwd,mfa --auth-age 1m --lifetime 2h)
posture=$(ztgw dev posture --config "$work/gw/gateway.yaml" --device laptop-7 --segment finance --compliant --managed --risk low --user alice --lifetime 1h)
ztgw dev token --config "$work/gw/gateway.yaml" --sub alice --groups finance-auditors --amr pwd,mfa --auth-age 1m --lifetime 2h --count "$DISTINCT" >"$work/tokens.txt"

dotnet "$root/src/ZtGateway.Cli/bin/Release/net10.0/ztgw.dll" run --config "$work/gw/gateway.yaml" >"$work/gateway.out" 2>"$work/gateway.log" &
gw_pid=$!; pids+=("$gw_pid")

# yarp-jwtbearer: BareProxy plus the JwtBearer handler and an `amr` contains `mfa` policy, trusting the issuer, audience
# and key set of the gateway's identity issuer above (read back from gateway.yaml, so the two cannot drift apart).
idp_line=$(grep -m1 'type: jwks' "$work/gw/gateway.yaml" || true)
idp_issuer=$(sed -n 's/.* issuer: \([^ ,}]*\).*/\1/p' <<<"$idp_line")
idp_audience=$(sed -n 's/.* audiences: \[\([^] ,]*\).*/\1/p' <<<"$idp_line")
idp_jwks="$work/gw/$(sed -n 's/.* jwksFile: \([^ ,}]*\).*/\1/p' <<<"$idp_line")"
[ -n "$idp_issuer" ] && [ -n "$idp_audience" ] && [ -s "$idp_jwks" ] ||
  { echo "could not read the identity issuer (issuer, audience, jwksFile) from $work/gw/gateway.yaml" >&2; exit 1; }
dotnet "$root/bench/JwtBearerProxy/bin/Release/net10.0/JwtBearerProxy.dll" --urls "http://$JWTB" --upstream "http://$UPSTREAM" \
  --jwks "$idp_jwks" --issuer "$idp_issuer" --audience "$idp_audience" >"$work/jwtbearer.log" 2>&1 &
jwtb_pid=$!; pids+=("$jwtb_pid")

# The same gateway and keys with `audit.allows: false` (an operator's choice: only refusals are written), on its
# own ports: the difference to gateway-reused is what writing one audit line per allowed request costs.
cp -r "$work/gw" "$work/gw-denies"
sed -i "s#listen: http://$GATEWAY#listen: http://$DENIES#; s#listen: http://127.0.0.1:18084#listen: http://127.0.0.1:18086#" "$work/gw-denies/segments/"*.yaml
sed -i "s#^audit: .*#audit: { sinks: [\"file:$work/audit-denies.jsonl\"], allows: false }#" "$work/gw-denies/gateway.yaml"
dotnet "$root/src/ZtGateway.Cli/bin/Release/net10.0/ztgw.dll" run --config "$work/gw-denies/gateway.yaml" >"$work/gateway-denies.out" 2>"$work/gateway-denies.log" &
denies_pid=$!; pids+=("$denies_pid")

# gateway-shared: the same policy with gateway.sharedState on a local redis-server (Debian's package), on its own
# ports: requests are decided on local tables, so sharing must cost nothing on the request path.
SHARED_REDIS=127.0.0.1:18089
redis-server --port 18089 --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!; pids+=("$redis_pid")
cp -r "$work/gw" "$work/gw-shared"
sed -i "s#listen: http://$GATEWAY#listen: http://127.0.0.1:18090#; s#listen: http://127.0.0.1:18084#listen: http://127.0.0.1:18091#" "$work/gw-shared/segments/"*.yaml
sed -i "s#^audit: .*#audit: { sinks: [\"file:$work/audit-shared.jsonl\"] }#; s#^  management: { listen: \"\" }#  management: { listen: \"\" }\n  sharedState: { redis: \"$SHARED_REDIS\", prefix: bench }#" "$work/gw-shared/gateway.yaml"
grep -q sharedState "$work/gw-shared/gateway.yaml" || { echo "could not add sharedState to the gateway-shared config" >&2; exit 1; }
for _ in $(seq 1 50); do redis-cli -p 18089 ping >/dev/null 2>&1 && break; sleep 0.1; done
dotnet "$root/src/ZtGateway.Cli/bin/Release/net10.0/ztgw.dll" run --config "$work/gw-shared/gateway.yaml" >"$work/gateway-shared.out" 2>"$work/gateway-shared.log" &
shared_pid=$!; pids+=("$shared_pid")

# BASELINE=path/to/ztgw.dll (an earlier build) adds gateway-baseline: the same policy, keys and token on that build, in
# the same interleaved rounds, so a change is compared with what it changed on the same machine at the same time.
if [ -n "${BASELINE:-}" ]; then
  cp -r "$work/gw" "$work/gw-baseline"
  sed -i "s#listen: http://$GATEWAY#listen: http://127.0.0.1:18087#; s#listen: http://127.0.0.1:18084#listen: http://127.0.0.1:18088#" "$work/gw-baseline/segments/"*.yaml
  sed -i "s#^audit: .*#audit: { sinks: [\"file:$work/audit-baseline.jsonl\"] }#" "$work/gw-baseline/gateway.yaml"
  dotnet "$BASELINE" run --config "$work/gw-baseline/gateway.yaml" >"$work/gateway-baseline.out" 2>"$work/gateway-baseline.log" &
  baseline_pid=$!; pids+=("$baseline_pid")
fi

wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer from $1" >&2; exit 1; }
wait_for "http://$UPSTREAM/"; wait_for "http://$NGINX/"; wait_for "http://$BARE/"; wait_for "http://$JWTB/"; wait_for "http://$GATEWAY/"; wait_for "http://$DENIES/"
wait_for "http://127.0.0.1:18090/"
gateways=("$GATEWAY" "$DENIES" "127.0.0.1:18090")
if [ -n "${BASELINE:-}" ]; then wait_for "http://127.0.0.1:18087/"; gateways+=("127.0.0.1:18087"); fi
for gw in "${gateways[@]}"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://$gw/x" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture")
  [ "$status" = 200 ] || { echo "the gateway on $gw refused the benchmark request ($status); see $work/gateway*.log" >&2; exit 1; }
done
# The peer must answer the benchmark request, and must really check it: 401 without a token, 403 without MFA.
pwd_token=$(ztgw dev token --config "$work/gw/gateway.yaml" --sub alice --groups finance-auditors --amr pwd --auth-age 1m --lifetime 10m)
for check in "200 $token" "401 -" "403 $pwd_token"; do
  want=${check%% *}; bearer=${check#* }
  auth=(); [ "$bearer" != - ] && auth=(-H "Authorization: Bearer $bearer")
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://$JWTB/x" "${auth[@]}" -H "X-Device-Posture: $posture")
  [ "$status" = "$want" ] || { echo "yarp-jwtbearer answered $status where $want is due; see $work/jwtbearer.log" >&2; exit 1; }
done

cat > "$work/distinct.lua" <<'LUA'
local tokens = {}
local i = 0
init = function(args)
  for line in io.lines(os.getenv("ZTGW_TOKENS")) do tokens[#tokens + 1] = line end
  i = math.random(#tokens)
end
request = function()
  i = i % #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format()
end
LUA

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
results="$work/results.tsv"; : >"$results"

measure() { # name url pid(or -) extra wrk args...
  local name=$1 url=$2 pid=$3; shift 3
  local before=0 after=0
  [ "$pid" != - ] && before=$(ticks "$pid")
  local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  [ "$pid" != - ] && after=$(ticks "$pid")
  local rps p50 p99 requests errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out"); errors=${errors:-0}
  local cpu=""
  [ "$pid" != - ] && cpu=$(awk -v d=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$rps" "$p50" "$p99" "$cpu" "$errors" >>"$results"
  echo "  $name: $rps req/s, p50 $p50, p99 $p99, cpu ${cpu:-n/a} us/req, non-2xx $errors" >&2
}

# Warm every target up (JIT, connection pools, caches) before anything is recorded.
# Every .NET proxy gets the same warm-up: they are long-running processes, and the tiered JIT needs several
# seconds of load before the code that runs per request is fully optimized.
for url in "http://$UPSTREAM/x" "http://$NGINX/x"; do wrk -t1 -c"$CONNECTIONS" -d3s "$url" >/dev/null; done
wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "http://$BARE/x" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture" "http://$JWTB/x" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture" "http://$GATEWAY/x" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture" "http://$DENIES/x" >/dev/null
ZTGW_TOKENS="$work/tokens.txt" wrk -t1 -c"$CONNECTIONS" -d3s -H "X-Device-Posture: $posture" -s "$work/distinct.lua" "http://$GATEWAY/x" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture" "http://127.0.0.1:18090/x" >/dev/null
if [ -n "${BASELINE:-}" ]; then
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture" "http://127.0.0.1:18087/x" >/dev/null
fi

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  measure direct "http://$UPSTREAM/x" -
  measure nginx "http://$NGINX/x" -
  measure bare-yarp "http://$BARE/x" "$bare_pid"
  measure yarp-jwtbearer "http://$JWTB/x" "$jwtb_pid" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture"
  measure gateway-reused "http://$GATEWAY/x" "$gw_pid" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture"
  measure gateway-shared "http://127.0.0.1:18090/x" "$shared_pid" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture"
  ZTGW_TOKENS="$work/tokens.txt" measure gateway-distinct "http://$GATEWAY/x" "$gw_pid" -H "X-Device-Posture: $posture" -s "$work/distinct.lua"
  measure gateway-denies-only "http://$DENIES/x" "$denies_pid" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture"
  if [ -n "${BASELINE:-}" ]; then
    measure gateway-baseline "http://127.0.0.1:18087/x" "$baseline_pid" -H "Authorization: Bearer $token" -H "X-Device-Posture: $posture"
  fi
done

audited=$(wc -l <"$work/audit.jsonl")
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$results" "$root/bench/results/$stamp.json" "$audited" "$DURATION" "$ROUNDS" "$CONNECTIONS" <<'PY'
import json, re, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v or "")
    return None if not m else float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
targets = {}
by_round = {}
for rnd, name, rps, p50, p99, cpu, errors in rows:
    t = targets.setdefault(name, {"rps": [], "p50": [], "p99": [], "cpu": [], "errors": 0})
    t["rps"].append(float(rps)); t["p50"].append(ms(p50)); t["p99"].append(ms(p99))
    if cpu: t["cpu"].append(float(cpu))
    t["errors"] += int(errors)
    by_round.setdefault(rnd, {})[name] = {"rps": float(rps), "p99": ms(p99), "cpu": float(cpu) if cpu else None}
# Ratios are taken within a round (targets measured seconds apart) and then the median over rounds, so that a
# machine that is faster in one round than in the next moves every target of that round together.
def per_round(name, f, base="bare-yarp"):
    values = [f(r[name], r[base]) for r in by_round.values() if name in r and base in r]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
def ratio(a, b): return None if a is None or not b else a / b
def r3(v): return None if v is None else round(v, 3)
summary = {}
for n, t in targets.items():
    summary[n] = {"rps": statistics.median(t["rps"]), "p50_ms": statistics.median(t["p50"]), "p99_ms": statistics.median(t["p99"]),
                  "cpu_us_per_request": statistics.median(t["cpu"]) if t["cpu"] else None, "non_2xx": t["errors"], "runs": len(t["rps"]),
                  "vs_bare_yarp": r3(per_round(n, lambda x, b: ratio(x["rps"], b["rps"]))),
                  "vs_nginx": r3(per_round(n, lambda x, b: ratio(x["rps"], b["rps"]), "nginx")),
                  "vs_yarp_jwtbearer": r3(per_round(n, lambda x, b: ratio(x["rps"], b["rps"]), "yarp-jwtbearer")),
                  "cpu_vs_bare_yarp": None if not t["cpu"] else r3(per_round(n, lambda x, b: ratio(x["cpu"], b["cpu"]))),
                  "p99_ms_over_bare_yarp": r3(per_round(n, lambda x, b: None if x["p99"] is None or b["p99"] is None else x["p99"] - b["p99"]))}
# The targets of the performance issue, judged on the same per-round medians as the table. A target is met only when
# both sides of its comparison answered every request with 2xx: a refused request is cheaper and would flatter it.
bars = [("gateway-reused", "CPU per request <= 1.4x bare YARP", "cpu_vs_bare_yarp", "bare-yarp", lambda v: v <= 1.4),
        ("gateway-reused", "requests/s >= 0.8x bare YARP", "vs_bare_yarp", "bare-yarp", lambda v: v >= 0.8),
        ("gateway-reused", "p99 at most 1 ms above bare YARP", "p99_ms_over_bare_yarp", "bare-yarp", lambda v: v <= 1.0),
        ("gateway-distinct", "requests/s >= 0.65x bare YARP", "vs_bare_yarp", "bare-yarp", lambda v: v >= 0.65),
        ("gateway-reused", "requests/s > yarp-jwtbearer", "vs_yarp_jwtbearer", "yarp-jwtbearer", lambda v: v > 1.0),
        ("gateway-shared", "CPU per request <= 1.4x bare YARP", "cpu_vs_bare_yarp", "bare-yarp", lambda v: v <= 1.4),
        ("gateway-shared", "requests/s >= 0.8x bare YARP", "vs_bare_yarp", "bare-yarp", lambda v: v >= 0.8),
        ("gateway-shared", "p99 at most 1 ms above bare YARP", "p99_ms_over_bare_yarp", "bare-yarp", lambda v: v <= 1.0)]
targets_met = []
for name, bar, key, base, ok in bars:
    figure = summary.get(name, {}).get(key)
    clean = name in summary and base in summary and summary[name]["non_2xx"] == 0 and summary[base]["non_2xx"] == 0
    targets_met.append({"target": name, "bar": bar, "measure": key, "figure": figure,
                        "met": bool(clean and figure is not None and ok(figure)), "non_2xx_free": clean})
doc = {"duration": sys.argv[4], "rounds": int(sys.argv[5]), "connections": int(sys.argv[6]), "audit_lines": int(sys.argv[3]), "targets": summary,
       "targets_met": targets_met}
json.dump(doc, open(sys.argv[2], "w"), indent=2)
def fmt(v, spec): return "" if v is None else format(v, spec)
print(f"{'target':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>10} {'x bare':>7} {'x nginx':>7} {'x jwtb':>7} {'cpu x bare':>10} {'p99 +ms':>8} {'non-2xx':>7}")
for n, s in summary.items():
    print(f"{n:20} {s['rps']:9.0f} {fmt(s['p50_ms'], '8.3f'):>8} {fmt(s['p99_ms'], '8.3f'):>8} {fmt(s['cpu_us_per_request'], '.1f'):>10} "
          f"{fmt(s['vs_bare_yarp'], '.2f'):>7} {fmt(s['vs_nginx'], '.2f'):>7} {fmt(s['vs_yarp_jwtbearer'], '.2f'):>7} "
          f"{fmt(s['cpu_vs_bare_yarp'], '.2f'):>10} {fmt(s['p99_ms_over_bare_yarp'], '.2f'):>8} {s['non_2xx']:7d}")
print(f"req/s, p50, p99, cpu: medians of {doc['rounds']} interleaved rounds; x bare, x nginx, x jwtb, cpu x bare, p99 +ms: medians of the per-round ratios and differences; written to {sys.argv[2]}")
print()
print("Targets (medians of the per-round ratios and differences, as in the table)")
for t in targets_met:
    unit = " ms" if t["measure"].startswith("p99") else "x"
    figure = "n/a" if t["figure"] is None else (f"{t['figure']:+.3f}" if unit == " ms" else f"{t['figure']:.3f}") + unit
    verdict = "met" if t["met"] else "NOT MET" if t["non_2xx_free"] else "NOT MET (non-2xx answers)"
    print(f"  {t['target']:17} {t['bar']:34} {figure:>10}  {verdict}")
print(f"  {sum(t['met'] for t in targets_met)} of {len(targets_met)} met")
PY

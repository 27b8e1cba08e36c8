#!/usr/bin/env bash
# Start, stop and check the supportmesh services as local background processes (no Docker).
#
# Usage: deploy/mesh.sh start [service...] | stop [service...] | restart [service...] | status | logs [service]
#        deploy/mesh.sh scale <stage> <N> | tokens
# Each service runs from the workspace venv with its log in $SUPPORTMESH_HOME/logs/<service>.log and
# its pid in $SUPPORTMESH_HOME/pids/<service>.pid. `start` returns once every service answers /readyz.
# `scale` runs N replicas of a Kafka stage: the extra ones are instances "<stage>@2", "<stage>@3", … (HTTP
# port 100 above the previous one; they join the stage's consumer group and share its partitions, so more
# replicas than partitions idle). Instances can be named to stop, start and logs like services.
# Commerce's service tokens are random per install ($SUPPORTMESH_HOME/secrets/commerce-tokens.env, mode 600, made
# on first start or by `tokens`); SUPPORTMESH_TLS=1 runs commerce and its callers over mutual TLS (deploy/certs.sh).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${SUPPORTMESH_HOME:-$REPO/.infra}"
PY="$REPO/.venv/bin/python"
START_TIMEOUT="${MESH_START_TIMEOUT:-180}"

# name:http-port, in start order: commerce first (the retriever looks it up), the indexer before the agents.
SERVICES=(commerce:8107 hop-indexer:8106 intent-classifier:8101 context-compressor:8102
          retriever:8103 technical-analyst:8104 response-generator:8105)

# Commerce service tokens: random per install, made once (never a literal in the code): commerce gets them all,
# each caller its own. COMMERCE_TOKEN_<SERVICE> in the environment overrides the file's value.
TOKENS_FILE="${SUPPORTMESH_LOCAL_TOKENS_FILE:-$STATE/secrets/commerce-tokens.env}"
COMMERCE_CALLERS=(retriever technical-analyst response-generator ops)   # commerce's permissions.json
COMMERCE_CLIENTS=(retriever technical-analyst)                          # the services that call it
# SUPPORTMESH_TLS=1: commerce serves mutual TLS with deploy/certs.sh's certificates (made if missing), each
# client presents its own (CN = its name). Off by default: the local run stays plaintext.
CERTS="${SUPPORTMESH_CERTS_DIR:-$REPO/.infra/certs}"
tls_on() { [[ "${SUPPORTMESH_TLS:-0}" == 1 ]]; }

ensure_secrets() {
  "$PY" -c 'import pathlib, sys; from supportmesh_core import local_tokens; local_tokens.ensure(pathlib.Path(sys.argv[1]))' \
    "$TOKENS_FILE" || die "cannot read or create the commerce tokens in $TOKENS_FILE"
  if tls_on; then SUPPORTMESH_CERTS_DIR="$CERTS" "$REPO/deploy/certs.sh" || die "deploy/certs.sh failed"; fi
}

token_of() {   # token_of SERVICE: COMMERCE_TOKEN_<SERVICE> from the environment, else from the tokens file
  local key value
  key="COMMERCE_TOKEN_$(echo "$1" | tr 'a-z-' 'A-Z_')"
  value="${!key:-$(sed -n "s/^$key=//p" "$TOKENS_FILE")}"
  [[ -n "$value" ]] || die "no commerce token for $1 in $TOKENS_FILE (delete the file to have it made again)"
  echo "$value"
}

service_env() {   # service_env SERVICE: sets EXTRA to the commerce token and TLS variables it runs with
  local svc=$1 spec="" c t
  EXTRA=()
  if [[ "$svc" == commerce ]]; then
    for c in "${COMMERCE_CALLERS[@]}"; do t=$(token_of "$c") || exit 1; spec+="${spec:+,}$c=$t"; done
    EXTRA+=("COMMERCE_TOKENS=$spec")
    tls_on && EXTRA+=("COMMERCE_TLS_CERT=$CERTS/server.crt" "COMMERCE_TLS_KEY=$CERTS/server.key"
                      "COMMERCE_TLS_CLIENT_CA=$CERTS/ca.crt")
  elif [[ " ${COMMERCE_CLIENTS[*]} " == *" $svc "* ]]; then
    t=$(token_of "$svc") || exit 1
    EXTRA+=("COMMERCE_TOKEN=$t")
    tls_on && EXTRA+=("COMMERCE_TLS_CA=$CERTS/ca.crt" "COMMERCE_TLS_CLIENT_CERT=$CERTS/$svc.crt"
                      "COMMERCE_TLS_CLIENT_KEY=$CERTS/$svc.key")
  fi
  return 0
}

# The local run exempts from the intake's limits the one seeded customer the test suites and examples send hundreds
# of tickets as, and the `bench` channel, whose capacity runs publish thousands at once (a held-back ticket is not
# a measure of the agents); every other customer and channel is limited as in production
# (services/intent-classifier/README.md, "Limits"). INTAKE_LIMITS_EXEMPT= (empty) exempts no one.
export INTAKE_LIMITS_EXEMPT="${INTAKE_LIMITS_EXEMPT-yusuf.rossi7301@example.com,channel:bench}"

log() { printf '[mesh] %s\n' "$*" >&2; }
die() { printf '[mesh] error: %s\n' "$*" >&2; exit 1; }

# The Kafka stages, which may run as several replicas (commerce and the hop-indexer run once).
STAGES=(intent-classifier context-compressor retriever technical-analyst response-generator)

# port_of INSTANCE: a service's port, or for replica k of it (<service>@k) the port 100*(k-1) above.
port_of() {
  local entry base=${1%@*} k=1
  [[ "$1" == *@* ]] && k=${1##*@}
  [[ "$k" =~ ^[1-9][0-9]?$ ]] || die "bad replica number in '$1'"
  for entry in "${SERVICES[@]}"; do
    [[ "${entry%%:*}" == "$base" ]] && { echo $(( ${entry##*:} + 100 * (k - 1) )); return; }
  done
  die "unknown service '$base' (known: ${SERVICES[*]%%:*})"
}
replicas_of() {   # the extra replicas of a service that have a pid file, in order
  local f
  for f in "$STATE"/pids/"$1"@*.pid; do [[ -e "$f" ]] && basename "$f" .pid; done | sort -t@ -k2 -n
}

# pid_alive PIDFILE: the pid names a live (not zombie) process running one of our services; a killed
# service can linger as a zombie, and a stale pid file can name a recycled pid.
pid_alive() {
  local pid
  [[ -f "$1" ]] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 1
  [[ "$(cut -d' ' -f3 "/proc/$pid/stat")" != Z ]] || return 1
  local name
  name=$(basename "$1" .pid)
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-m $(echo "${name%@*}" | tr - _)"
}
ready() { curl -fsS -m 2 "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; }

selected() { if [[ $# -gt 0 ]]; then printf "%s\n" "$@"; else for e in "${SERVICES[@]}"; do echo "${e%%:*}"; done; fi; }

start_one() {
  local name=$1 port pidf logf
  port=$(port_of "$name")
  pidf="$STATE/pids/$name.pid"
  logf="$STATE/logs/$name.log"
  if pid_alive "$pidf"; then
    log "$name already running (pid $(cat "$pidf"))"
    return
  fi
  mkdir -p "$STATE/pids" "$STATE/logs"
  # setsid: the service outlives the shell that started it (make returns while it runs).
  # A replica is the same service (same name, consumer group and state directory) on another HTTP port.
  local service=${name%@*}
  service_env "$service"
  env "${EXTRA[@]}" OTEL_SERVICE_NAME="$service" HTTP_PORT="$port" \
    setsid nohup "$PY" -m "${service//-/_}" >>"$logf" 2>&1 </dev/null &
  echo $! >"$pidf"
  log "$name started (pid $!, log $logf)"
}

wait_ready() {
  local name=$1 port deadline
  port=$(port_of "$name")
  deadline=$((SECONDS + START_TIMEOUT))
  until ready "$port"; do
    if ! pid_alive "$STATE/pids/$name.pid"; then
      tail -n 30 "$STATE/logs/$name.log" >&2 || true
      die "$name exited during start-up (log above: $STATE/logs/$name.log)"
    fi
    if (( SECONDS > deadline )); then
      tail -n 30 "$STATE/logs/$name.log" >&2 || true
      die "$name not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.5
  done
  log "$name ready on :$port"
}

stop_one() {
  local name=$1 pidf pid
  pidf="$STATE/pids/$name.pid"
  if ! pid_alive "$pidf"; then
    rm -f "$pidf"
    return
  fi
  pid=$(cat "$pidf")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && { log "$name ignored SIGTERM; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$pidf"
  log "$name stopped"
}

[[ -x "$PY" ]] || die "no virtualenv at $REPO/.venv: run 'make sync' first"
cmd="${1:-status}"
shift || true
case "$cmd" in
  start)
    mapfile -t names < <(selected "$@")
    ensure_secrets
    for n in "${names[@]}"; do start_one "$n"; done
    for n in "${names[@]}"; do wait_ready "$n"; done ;;
  stop)
    mapfile -t names < <(selected "$@")
    for ((i=${#names[@]}-1; i>=0; i--)); do
      # Stopping a service stops its replicas too (stopping one replica by name stops only that one).
      [[ "${names[i]}" == *@* ]] || for r in $(replicas_of "${names[i]}"); do stop_one "$r"; done
      stop_one "${names[i]}"
    done ;;
  scale)
    [[ $# -eq 2 && "$2" =~ ^[1-9][0-9]?$ ]] || die "usage: deploy/mesh.sh scale <stage> <N>, N from 1 to 99"
    [[ " ${STAGES[*]} " == *" $1 "* ]] || die "only the Kafka stages scale (${STAGES[*]}); '$1' runs once"
    ensure_secrets
    start_one "$1"; wait_ready "$1"
    for r in $(replicas_of "$1"); do if (( ${r##*@} > $2 )); then stop_one "$r"; fi; done
    for ((k=2; k<=$2; k++)); do start_one "$1@$k"; done
    for ((k=2; k<=$2; k++)); do wait_ready "$1@$k"; done
    log "$1: $2 replica(s)" ;;
  restart)
    "$0" stop "$@"
    exec "$0" start "$@" ;;
  status)
    for e in "${SERVICES[@]}"; do
      for n in "${e%%:*}" $(replicas_of "${e%%:*}"); do
        p=$(port_of "$n")
        if pid_alive "$STATE/pids/$n.pid"; then
          if ready "$p"; then s=ready; else s=starting; fi
          printf '%-22s %-9s pid %-8s http://127.0.0.1:%s/readyz\n' "$n" "$s" "$(cat "$STATE/pids/$n.pid")" "$p"
        elif [[ "$n" != *@* ]]; then
          printf '%-22s %-9s\n' "$n" stopped
        fi
      done
    done ;;
  tokens)   # make the install's commerce tokens if missing (and the certificates with SUPPORTMESH_TLS=1); print the file
    ensure_secrets
    echo "$TOKENS_FILE" ;;
  logs)
    if [[ $# -gt 0 ]]; then tail -n 100 -F "$STATE/logs/$1.log"; else tail -n 20 -F "$STATE"/logs/*.log; fi ;;
  *) die "unknown command '$cmd' (start|stop|restart|status|logs|scale|tokens)" ;;
esac

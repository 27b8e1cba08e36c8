#!/usr/bin/env bash
# Fetch, start, stop and health-check local Kafka (KRaft) and Elasticsearch servers without Docker.
#
# Usage: deploy/infra.sh fetch | start [kafka|es|all] | stop [kafka|es|all] | status | reset
#   (status exits non-zero unless both servers are healthy; reset = stop + wipe data, keeps logs)
#
# Env overrides (defaults in brackets):
#   SUPPORTMESH_HOME   state: data, logs, pids            [<repo>/.infra]
#   SUPPORTMESH_CACHE  downloads + private Maven repo     [${XDG_CACHE_HOME:-$HOME/.cache}/supportmesh]
#   KAFKA_PORT [9092]  KAFKA_CONTROLLER_PORT [9093]  KAFKA_CHAOS_PORT [9094]
#   KAFKA_CHAOS_ADVERTISED [127.0.0.1:29094]  (address clients get for the CHAOS listener, e.g. Toxiproxy)
#   KAFKA_SECURITY [plaintext]  sasl_ssl = the client and CHAOS listeners take TLS (the server certificate of
#     deploy/certs.sh from SUPPORTMESH_CERTS_DIR [<repo>/.infra/certs], made if missing) and SCRAM-SHA-512;
#     the controller listener takes mutual TLS. Users are created when the data dir is formatted: the service
#     user KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD (required, no default) and an admin for the broker itself,
#     KAFKA_ADMIN_USERNAME [supportmesh-admin] with KAFKA_ADMIN_PASSWORD or, unset, a random one kept in
#     $SUPPORTMESH_HOME/secrets/kafka-admin (mode 600). An authorizer denies the service user everything until
#     `supportmesh kafka-provision` grants it the mesh's topics. Use it with its own SUPPORTMESH_HOME and ports.
#   ES_PORT [9200]  ES_TRANSPORT_PORT [9300]
#   KAFKA_HEAP ["-Xms256m -Xmx512m"]  ES_HEAP ["-Xms512m -Xmx512m"]  (JVM heap flags)
#   KAFKA_START_TIMEOUT [90]  ES_START_TIMEOUT [180]  (seconds)
#   ES_SECURITY [0]  1 = Elasticsearch with security on: HTTPS (and transport TLS) with the server certificate of
#     deploy/certs.sh from SUPPORTMESH_CERTS_DIR [<repo>/.infra/certs], made if missing, and a file-realm
#     superuser ES_ADMIN_USER [supportmesh-admin] whose password is ES_ADMIN_PASSWORD or, unset, a random
#     one kept in $SUPPORTMESH_HOME/secrets/elasticsearch-admin (mode 600). Roles, the indexer's API key and
#     the read-only trace user are made by `supportmesh es-provision` (tools/supportmesh-cli). Use it with
#     its own SUPPORTMESH_HOME and ports: one ES instance per state dir.
#
# Elasticsearch refuses to run as root, so as root it runs as system user supportmesh-es.
# That user must be able to traverse to its files; see es_paths for where they live.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$REPO/deploy"
STATE="${SUPPORTMESH_HOME:-$REPO/.infra}"
CACHE="${SUPPORTMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/supportmesh}"
M2="$CACHE/m2" # private Maven repo: wiping the cache really means a cold start

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_CHAOS_PORT="${KAFKA_CHAOS_PORT:-9094}"
KAFKA_CHAOS_ADVERTISED="${KAFKA_CHAOS_ADVERTISED:-127.0.0.1:29094}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_SECURITY="${KAFKA_SECURITY:-plaintext}"
KAFKA_ADMIN_USERNAME="${KAFKA_ADMIN_USERNAME:-supportmesh-admin}"
KAFKA_CERTS_SRC="${SUPPORTMESH_CERTS_DIR:-$REPO/.infra/certs}"
ES_PORT="${ES_PORT:-9200}"
ES_TRANSPORT_PORT="${ES_TRANSPORT_PORT:-9300}"
ES_HEAP="${ES_HEAP:--Xms512m -Xmx512m}"
ES_START_TIMEOUT="${ES_START_TIMEOUT:-180}"
ES_USER="supportmesh-es"
ES_SECURITY="${ES_SECURITY:-0}"
ES_ADMIN_USER="${ES_ADMIN_USER:-supportmesh-admin}"
ES_CERTS_SRC="${SUPPORTMESH_CERTS_DIR:-$REPO/.infra/certs}"

INSTALL_HINT="install Java 17+ and Maven: apt-get install openjdk-17-jre-headless maven"

pom_prop() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$1" | head -n1; }
KAFKA_VERSION="$(pom_prop "$DEPLOY/kafka/pom.xml" kafka.version)"
ES_VERSION="$(pom_prop "$DEPLOY/elasticsearch/pom.xml" es.version)"
KAFKA_LIB="$CACHE/kafka-$KAFKA_VERSION/lib"

KAFKA_DATA="$STATE/data/kafka"
KAFKA_CONF="$STATE/conf/kafka"
KAFKA_LOGS="$STATE/logs/kafka"
KAFKA_PID="$STATE/pids/kafka.pid"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- prerequisites

JAVA_HOME_17=""
require_java() {
  [[ -n "$JAVA_HOME_17" ]] && return 0
  local java
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    java="$JAVA_HOME/bin/java"
  else
    java="$(command -v java || true)"
  fi
  [[ -n "$java" ]] || die "java not found; $INSTALL_HINT"
  java="$(readlink -f "$java")"
  local major
  major="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${major%%.*}" =~ ^[0-9]+$ && "${major%%.*}" -ge 17 ]] || die "Java $major at $java is too old; $INSTALL_HINT"
  JAVA_HOME_17="${java%/bin/java}"
}

require_mvn() {
  command -v mvn >/dev/null || die "mvn not found; $INSTALL_HINT"
}

# Runs Maven quietly; shows its output only on failure.
mvn_quiet() {
  local out rc=0
  out="$(mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$M2" "$@" 2>&1)" || rc=$?
  if ((rc != 0)); then
    printf '%s\n' "$out" | tail -n 40 >&2
    die "maven failed (exit $rc): mvn $*"
  fi
}

# ---------------------------------------------------------------- process helpers

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive PIDFILE MARKER: pid file names a live process whose command line or environment
# contains MARKER (guards against stale pid files and recycled pids; we never signal anything else).
pid_alive() {
  local pid
  [[ -r "$1" ]] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  local info
  info="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null; tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true)"
  [[ "$info" == *"$2"* ]] || return 1
  printf '%s' "$pid"
}

# stop_pid NAME PID TIMEOUT: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" timeout="$3" t0
  t0="$(now)"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 5; i++)); do
    [[ -e "/proc/$pid" ]] || { log "$name stopped in $(elapsed "$t0")s"; return 0; }
    sleep 0.2
  done
  log "$name did not exit within ${timeout}s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do [[ -e "/proc/$pid" ]] || return 0; sleep 0.1; done
  die "could not kill $name (pid $pid)"
}

fail_with_logs() {
  local msg="$1"; shift
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    printf '\n----- last lines of %s -----\n' "$f" >&2
    tail -n 30 "$f" >&2
  done
  die "$msg"
}

rss_of() { awk '/^VmRSS/ { printf "%d MiB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true; }

# ---------------------------------------------------------------- Kafka

fetch_kafka() {
  [[ -f "$KAFKA_LIB/.complete" ]] && return 0
  require_mvn
  local t0 tmp
  t0="$(now)"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central"
  tmp="$KAFKA_LIB.tmp.$$"
  rm -rf "$tmp"
  mvn_quiet -f "$DEPLOY/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp"
  rm -rf "$KAFKA_LIB"
  mv "$tmp" "$KAFKA_LIB"
  touch "$KAFKA_LIB/.complete"
  log "Kafka jars ready in $(elapsed "$t0")s"
}

kafka_secured() {
  case "$KAFKA_SECURITY" in
    plaintext) return 1 ;;
    sasl_ssl) return 0 ;;
    *) die "unknown KAFKA_SECURITY '$KAFKA_SECURITY' (plaintext|sasl_ssl)" ;;
  esac
}

# ---- KAFKA_SECURITY=sasl_ssl: TLS with the local CA's server certificate, SCRAM users made at format time.

kafka_admin_password() {
  if [[ -n "${KAFKA_ADMIN_PASSWORD:-}" ]]; then printf '%s' "$KAFKA_ADMIN_PASSWORD"; return 0; fi
  local f="$STATE/secrets/kafka-admin"
  if [[ ! -s "$f" ]]; then
    mkdir -p "$(dirname "$f")"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$f")
  fi
  tr -d '\n' <"$f"
}

# A SCRAM user as `kafka-storage format --add-scram` reads it; its parser has no escapes, so the characters
# that end a value are refused here rather than silently cutting a password short.
kafka_scram_user() {
  local user="$1" password="$2"
  [[ -n "$user" && -n "$password" ]] || die "KAFKA_SECURITY=sasl_ssl needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
  [[ "$user$password" =~ ^[A-Za-z0-9._~@%+/-]+$ ]] \
    || die "Kafka SCRAM user names and passwords may hold only letters, digits and ._~@%+/- ($user)"
  printf 'SCRAM-SHA-512=[name=%s,password=%s]' "$user" "$password"
}

# Kafka reads PEM directly: one file with the key (PKCS#8, as certs.sh writes it) and the certificate chain.
kafka_prepare_certs() {
  if [[ ! -s "$KAFKA_CERTS_SRC/server.crt" || ! -s "$KAFKA_CERTS_SRC/server.key" || ! -s "$KAFKA_CERTS_SRC/ca.crt" ]]; then
    SUPPORTMESH_CERTS_DIR="$KAFKA_CERTS_SRC" "$DEPLOY/certs.sh"
  fi
  (umask 077 && cat "$KAFKA_CERTS_SRC/server.key" "$KAFKA_CERTS_SRC/server.crt" >"$KAFKA_CONF/server-keystore.pem")
  cp "$KAFKA_CERTS_SRC/ca.crt" "$KAFKA_CONF/ca.crt"
}

kafka_security_config() {
  local admin pw jaas
  admin="$KAFKA_ADMIN_USERNAME"
  pw="$(kafka_admin_password)"
  kafka_scram_user "$admin" "$pw" >/dev/null
  jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
  cat <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
# The broker talks to itself on SECURE as the admin user; CHAOS only authenticates clients.
listener.name.secure.scram-sha-512.sasl.jaas.config=$jaas username="$admin" password="$pw";
listener.name.chaos.scram-sha-512.sasl.jaas.config=$jaas;
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_CONF/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_CONF/ca.crt
ssl.endpoint.identification.algorithm=https
# Clients prove who they are with SCRAM; the controller listener, which has no SCRAM (its users live in the
# metadata it serves), wants the broker's certificate instead.
ssl.client.auth=none
listener.name.controller.ssl.client.auth=required
# No ACL, no access: the service user gets the mesh's topics from `supportmesh kafka-provision`. The broker itself
# is the admin on SECURE and its certificate's name (CN=localhost) on the controller listener.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$admin;User:CN=localhost
EOF
}

kafka_write_config() {
  mkdir -p "$KAFKA_CONF" "$KAFKA_DATA" "$KAFKA_LOGS" "$STATE/pids"
  local client=PLAINTEXT map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,CHAOS:PLAINTEXT
  if kafka_secured; then
    client=SECURE map=SECURE:SASL_SSL,CONTROLLER:SSL,CHAOS:SASL_SSL
    kafka_prepare_certs
  fi
  (umask 077 && cat >"$KAFKA_CONF/server.properties" <<EOF
# Generated by deploy/infra.sh; edits are overwritten on start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=$client://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,CHAOS://127.0.0.1:$KAFKA_CHAOS_PORT
# CHAOS advertises another address so a Toxiproxy in front of it sees all traffic of its clients.
advertised.listeners=$client://127.0.0.1:$KAFKA_PORT,CHAOS://$KAFKA_CHAOS_ADVERTISED
listener.security.protocol.map=$map
controller.listener.names=CONTROLLER
inter.broker.listener.name=$client
log.dirs=$KAFKA_DATA
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  )
  if kafka_secured; then kafka_security_config >>"$KAFKA_CONF/server.properties"; fi
}

kafka_cp() { printf '%s/*' "$KAFKA_LIB"; }

kafka_java_opts() {
  local -a heap
  read -r -a heap <<<"$KAFKA_HEAP"
  KAFKA_JAVA_OPTS=("${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$DEPLOY/kafka/log4j2.properties" -Dkafka.logs.dir="$KAFKA_LOGS")
}

# A Metadata v4 request over bash /dev/tcp (no client libraries): succeeds when the broker
# answers and lists itself (node 1 at 127.0.0.1:$KAFKA_PORT). v4 because Kafka 4 dropped v0-v3.
kafka_metadata_ok() {
  local expect
  # node_id=1, host="127.0.0.1" (int16 length 9), port
  expect="00000001""0009""3132372e302e302e31""$(printf '%08x' "$KAFKA_PORT")"
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    # size=20 | api_key=3 api_version=4 correlation_id="ZZZZ" client_id="infra" | topics=null auto_create=false
    printf "\x00\x00\x00\x14\x00\x03\x00\x04ZZZZ\x00\x05infra\xff\xff\xff\xff\x00" >&3
    size=$(head -c 4 <&3 | od -An -tu4 --endian=big | tr -d " ")
    [[ -n "$size" && "$size" -gt 8 && "$size" -lt 1048576 ]] || exit 1
    head -c "$size" <&3 | od -An -tx1 -v | tr -d " \n"
  ' _ "$KAFKA_PORT" 2>/dev/null | grep -q "^5a5a5a5a.*$expect"
}

# On a TLS listener: an ApiVersions request (v0; the one request a SASL listener answers before the login)
# through openssl, trusting only the local CA. Its answer starts with our correlation id and error code 0.
kafka_tls_ok() {
  # size=15 | api_key=18 api_version=0 correlation_id="ZZZZ" client_id="infra"
  { printf '\x00\x00\x00\x0f\x00\x12\x00\x00ZZZZ\x00\x05infra'; sleep 1; } \
    | timeout 5 openssl s_client -quiet -no_ign_eof -verify_return_error -CAfile "$KAFKA_CONF/ca.crt" \
      -verify_ip 127.0.0.1 -connect "127.0.0.1:$KAFKA_PORT" 2>/dev/null \
    | head -c 10 | od -An -tx1 -v | tr -d ' \n' | grep -q '^........5a5a5a5a0000$'
}

kafka_healthy() {
  if kafka_secured; then
    port_open "$KAFKA_PORT" && kafka_tls_ok
  else
    port_open "$KAFKA_PORT" && kafka_metadata_ok
  fi
}

# Security is fixed when the data dir is formatted (the SCRAM users live in its metadata): refuse to start a
# data dir in another mode than it was made for, or for another service user, rather than fail at every login.
kafka_format_marker() {
  if kafka_secured; then printf 'sasl_ssl %s\n' "${KAFKA_SASL_USERNAME:-}"; else printf 'plaintext\n'; fi
}

kafka_check_format_marker() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] || return 0
  local made
  made="$(cat "$KAFKA_DATA/.supportmesh-security" 2>/dev/null || echo plaintext)"
  [[ "$made" == "$(kafka_format_marker)" ]] \
    || die "kafka data in $KAFKA_DATA was formatted as '$made', not '$(kafka_format_marker)'; use another SUPPORTMESH_HOME or reset it"
}

launch_kafka() {
  fetch_kafka
  require_java
  kafka_check_format_marker   # before anything else: a running broker of the other mode would never turn healthy
  local pid
  if pid="$(pid_alive "$KAFKA_PID" "$KAFKA_CONF/server.properties")"; then
    if kafka_healthy; then
      log "kafka already running and healthy (pid $pid, 127.0.0.1:$KAFKA_PORT)"
      KAFKA_T0=""
      return 0
    fi
    log "kafka process $pid is running but not healthy yet; waiting for it"
    KAFKA_T0="$(now)"
    return 0
  fi
  rm -f "$KAFKA_PID"
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_CHAOS_PORT"; do
    port_open "$p" && die "port $p is already in use by a process this script did not start"
  done
  KAFKA_T0="$(now)"
  kafka_write_config
  kafka_java_opts
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    local cluster_id
    # 16 random bytes, url-safe base64 without padding = a valid Kafka cluster id.
    # ... not starting with '-', which the storage tool's argument parser would take for an option.
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    local -a scram=()
    if kafka_secured; then
      scram=(--add-scram "$(kafka_scram_user "${KAFKA_SASL_USERNAME:-}" "${KAFKA_SASL_PASSWORD:-}")"
        --add-scram "$(kafka_scram_user "$KAFKA_ADMIN_USERNAME" "$(kafka_admin_password)")")
    fi
    "$JAVA_HOME_17/bin/java" "${KAFKA_JAVA_OPTS[@]}" -cp "$(kafka_cp)" kafka.tools.StorageTool \
      format --ignore-formatted -t "$cluster_id" -c "$KAFKA_CONF/server.properties" "${scram[@]}" \
      >>"$KAFKA_LOGS/kafka.out" 2>&1 \
      || fail_with_logs "kafka storage format failed" "$KAFKA_LOGS/kafka.out"
    kafka_format_marker >"$KAFKA_DATA/.supportmesh-security"
  fi
  log "starting kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT ($KAFKA_SECURITY)"
  # setsid+nohup: the broker outlives the calling shell/terminal. $! is the JVM itself
  # (setsid does not fork when it is not a process group leader, which a background job isn't).
  (
    cd "$STATE"
    setsid nohup "$JAVA_HOME_17/bin/java" "${KAFKA_JAVA_OPTS[@]}" -cp "$(kafka_cp)" \
      kafka.Kafka "$KAFKA_CONF/server.properties" >>"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null 9>&- &
    echo $! >"$KAFKA_PID"
  )
}

wait_kafka() {
  [[ -n "${KAFKA_T0:-}" ]] || return 0
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) pid
  pid="$(tr -dc '0-9' <"$KAFKA_PID")"
  while ((SECONDS < deadline)); do
    # Alive is enough: the launched process execs into the JVM a moment later, and until then its command line
    # does not name the config yet (pid_alive's check), which on a busy machine failed a start that was fine.
    [[ -n "$pid" && -e "/proc/$pid" && "$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null)" != Z ]] \
      || fail_with_logs "kafka exited during startup" "$KAFKA_LOGS/server.log" "$KAFKA_LOGS/kafka.out"
    if kafka_healthy; then
      log "kafka ready on 127.0.0.1:$KAFKA_PORT in $(elapsed "$KAFKA_T0")s"
      return 0
    fi
    sleep 0.3
  done
  fail_with_logs "kafka not healthy after ${KAFKA_START_TIMEOUT}s" "$KAFKA_LOGS/server.log" "$KAFKA_LOGS/kafka.out"
}

stop_kafka() {
  local pid
  if pid="$(pid_alive "$KAFKA_PID" "$KAFKA_CONF/server.properties")"; then
    stop_pid kafka "$pid" 60
  else
    log "kafka not running"
  fi
  rm -f "$KAFKA_PID"
}

# ---------------------------------------------------------------- Elasticsearch

run_as_es() {
  if ((EUID == 0)); then runuser -u "$ES_USER" -- "$@"; else "$@"; fi
}

ensure_es_user() {
  ((EUID == 0)) || return 0
  id -u "$ES_USER" >/dev/null 2>&1 && return 0
  log "creating system user $ES_USER (Elasticsearch refuses to run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$ES_USER"
}

short_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# Where ES files live. The ES user must be able to traverse every parent directory, which fails
# when STATE/CACHE are under /root (mode 700). Rather than loosening permissions on someone's
# home, we then fall back to /var/tmp (persistent, world-traversable), keyed by a hash of the
# original path so separate SUPPORTMESH_HOMEs never share data. STATE/elasticsearch (and the
# logs/data links) always point at the real location.
es_paths() {
  ensure_es_user
  mkdir -p "$STATE" "$CACHE"
  if run_as_es test -x "$CACHE" -a -r "$CACHE"; then
    ES_HOME="$CACHE/elasticsearch-$ES_VERSION"
  else
    ES_HOME="/var/tmp/supportmesh-cache-$(short_hash "$CACHE")/elasticsearch-$ES_VERSION"
  fi
  if run_as_es test -x "$STATE"; then
    ES_RUN="$STATE/elasticsearch"
  else
    ES_RUN="/var/tmp/supportmesh-es-$(short_hash "$STATE")"
  fi
  ES_PIDFILE="$ES_RUN/elasticsearch.pid"
}

fetch_es() {
  es_paths
  [[ -f "$ES_HOME/.complete" ]] && return 0
  require_mvn
  local t0 dl tmp
  t0="$(now)"
  dl="$CACHE/downloads"
  log "fetching Elasticsearch $ES_VERSION zip from Maven Central"
  mvn_quiet -f "$DEPLOY/elasticsearch/pom.xml" dependency:copy-dependencies \
    -DexcludeTransitive=true -DincludeTypes=zip -DoutputDirectory="$dl"
  mkdir -p "$(dirname "$ES_HOME")"
  tmp="$ES_HOME.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  unzip -q "$dl/elasticsearch-$ES_VERSION.zip" -d "$tmp"
  rm -rf "$ES_HOME"
  mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
  rmdir "$tmp"
  rm -rf "$dl" # the zip stays in $M2; no third copy
  chmod -R a+rX "$ES_HOME"
  touch "$ES_HOME/.complete"
  log "Elasticsearch unpacked to $ES_HOME in $(elapsed "$t0")s"
}

es_prepare_dirs() {
  mkdir -p "$ES_RUN/data" "$ES_RUN/logs" "$STATE/data" "$STATE/logs"
  # Fresh config when the ES version changes (config/ also holds the node's keystore).
  if [[ "$(cat "$ES_RUN/config/.supportmesh-version" 2>/dev/null || true)" != "$ES_VERSION" ]]; then
    rm -rf "$ES_RUN/config"
    cp -r "$ES_HOME/config" "$ES_RUN/config"
    echo "$ES_VERSION" >"$ES_RUN/config/.supportmesh-version"
  fi
  if [[ "$ES_SECURITY" == 1 ]]; then es_prepare_security; fi
  if ((EUID == 0)); then chown -R "$ES_USER:$ES_USER" "$ES_RUN"; fi
  if [[ "$ES_SECURITY" == 1 ]]; then es_admin_user; fi
  if [[ "$ES_RUN" != "$STATE/elasticsearch" ]]; then ln -sfn "$ES_RUN" "$STATE/elasticsearch"; fi
  ln -sfn "$ES_RUN/data" "$STATE/data/elasticsearch"
  ln -sfn "$ES_RUN/logs" "$STATE/logs/elasticsearch"
}

# ---- ES_SECURITY=1: certificates in the node's config dir and a file-realm superuser for provisioning.

es_admin_password_file() { printf '%s' "$STATE/secrets/elasticsearch-admin"; }

es_admin_password() {
  if [[ -n "${ES_ADMIN_PASSWORD:-}" ]]; then printf '%s' "$ES_ADMIN_PASSWORD"; return 0; fi
  local f
  f="$(es_admin_password_file)"
  if [[ ! -s "$f" ]]; then
    mkdir -p "$(dirname "$f")"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$f")
  fi
  tr -d '\n' <"$f"
}

# The integ-test zip cannot create the .security index (its mapping names analysis-common's pattern_capture,
# unique and uax_url_email), and without that index there are no native users, roles or API keys. A small
# plugin (deploy/elasticsearch/security-analysis) supplies the three from Lucene. It goes into a home of its
# own, hard links of the shared one, so the plain node never loads it. Compiling it needs a JDK (javac, jar).
es_security_home() {
  local home="$ES_HOME-security" src="$DEPLOY/elasticsearch/security-analysis"
  local stamp
  stamp="$ES_VERSION $(cat "$src/plugin-descriptor.properties" "$src"/src/supportmesh/es/*.java | sha256sum | cut -c1-12)"
  if [[ "$(cat "$home/.complete" 2>/dev/null || true)" != "$stamp" ]]; then
    local javac="$JAVA_HOME_17/bin/javac" jar="$JAVA_HOME_17/bin/jar" tmp="$home.tmp.$$"
    [[ -x "$javac" && -x "$jar" ]] || die "ES_SECURITY=1 compiles a plugin: install a JDK (apt-get install openjdk-17-jdk-headless)"
    log "building the secured Elasticsearch home (security-analysis plugin) in $home"
    rm -rf "$tmp"
    cp -al "$ES_HOME" "$tmp" 2>/dev/null || cp -a "$ES_HOME" "$tmp"
    rm -f "$tmp/.complete"
    local plugin="$tmp/plugins/supportmesh-security-analysis"
    mkdir -p "$plugin" "$tmp/.build"
    "$javac" --release 17 -nowarn -cp "$ES_HOME/lib/*" -d "$tmp/.build" "$src"/src/supportmesh/es/*.java
    "$jar" --create --file "$plugin/supportmesh-security-analysis.jar" -C "$tmp/.build" .
    rm -rf "$tmp/.build"
    sed "s/@ES_VERSION@/$ES_VERSION/" "$src/plugin-descriptor.properties" >"$plugin/plugin-descriptor.properties"
    chmod -R a+rX "$plugin"
    rm -rf "$home"
    mv "$tmp" "$home"
    echo "$stamp" >"$home/.complete"
  fi
  ES_HOME="$home"
}

# The server key is 600 and owned by whoever ran certs.sh: ES (another user) reads its own copy.
es_prepare_security() {
  if [[ ! -s "$ES_CERTS_SRC/server.crt" || ! -s "$ES_CERTS_SRC/server.key" || ! -s "$ES_CERTS_SRC/ca.crt" ]]; then
    SUPPORTMESH_CERTS_DIR="$ES_CERTS_SRC" "$DEPLOY/certs.sh"
  fi
  mkdir -p "$ES_RUN/config/certs"
  cp "$ES_CERTS_SRC/server.crt" "$ES_CERTS_SRC/server.key" "$ES_CERTS_SRC/ca.crt" "$ES_RUN/config/certs/"
  chmod 600 "$ES_RUN/config/certs/server.key"
}

# (Re)writes the file-realm superuser with the current password: file realm users need no running node and
# no security index, so the very first health check can authenticate.
es_admin_user() {
  local -a tool=(env -u JAVA_HOME ES_JAVA_HOME="$JAVA_HOME_17" ES_PATH_CONF="$ES_RUN/config"
    "$ES_HOME/bin/elasticsearch-users")
  local pw
  pw="$(es_admin_password)"
  # The tool prompts twice and, without a terminal, reads stdin: the password stays off every command line.
  if grep -q "^$ES_ADMIN_USER:" "$ES_RUN/config/users" 2>/dev/null; then
    printf '%s\n%s\n' "$pw" "$pw" | run_as_es "${tool[@]}" passwd "$ES_ADMIN_USER" >/dev/null
  else
    printf '%s\n%s\n' "$pw" "$pw" | run_as_es "${tool[@]}" useradd "$ES_ADMIN_USER" -r superuser >/dev/null
  fi
}

es_scheme() { if [[ "$ES_SECURITY" == 1 ]]; then echo https; else echo http; fi; }

es_healthy() {
  local url="$(es_scheme)://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=5s"
  if [[ "$ES_SECURITY" == 1 ]]; then
    # The password goes in on stdin (curl -K -), never on a command line others can read in /proc.
    printf 'user = "%s:%s"\n' "$ES_ADMIN_USER" "$(es_admin_password)" \
      | curl -fs -o /dev/null --max-time 7 --cacert "$ES_CERTS_SRC/ca.crt" -K - "$url"
  else
    curl -fs -o /dev/null --max-time 7 "$url"
  fi
}

# The node's security flags: none but "off" unless ES_SECURITY=1.
es_security_flags() {
  if [[ "$ES_SECURITY" != 1 ]]; then
    ES_SECURITY_FLAGS=(-Expack.security.enabled=false)
    return 0
  fi
  ES_SECURITY_FLAGS=(-Expack.security.enabled=true
    -Expack.security.http.ssl.enabled=true
    -Expack.security.http.ssl.certificate=certs/server.crt
    -Expack.security.http.ssl.key=certs/server.key
    -Expack.security.http.ssl.certificate_authorities=certs/ca.crt
    -Expack.security.transport.ssl.enabled=true
    -Expack.security.transport.ssl.verification_mode=certificate
    -Expack.security.transport.ssl.certificate=certs/server.crt
    -Expack.security.transport.ssl.key=certs/server.key
    -Expack.security.transport.ssl.certificate_authorities=certs/ca.crt
    -Expack.security.authc.api_key.enabled=true)
}

# The server JVM's command line doesn't name the instance, but its environment does.
es_marker() { printf '%s' "ES_PATH_CONF=$ES_RUN/config"; }

ES_LAUNCHER_PID=""
launch_es() {
  fetch_es
  require_java
  if [[ "$ES_SECURITY" == 1 ]]; then es_security_home; fi
  local pid
  if pid="$(pid_alive "$ES_PIDFILE" "$(es_marker)")"; then
    if es_healthy; then
      log "elasticsearch already running and healthy (pid $pid, $(es_scheme)://127.0.0.1:$ES_PORT)"
      ES_T0=""
      return 0
    fi
    log "elasticsearch process $pid is running but not healthy yet; waiting for it"
    ES_T0="$(now)"
    return 0
  fi
  local p
  for p in "$ES_PORT" "$ES_TRANSPORT_PORT"; do
    port_open "$p" && die "port $p is already in use by a process this script did not start"
  done
  run_as_es test -x "$JAVA_HOME_17/bin/java" \
    || die "$ES_USER cannot execute $JAVA_HOME_17/bin/java; make the JDK world-readable"
  ES_T0="$(now)"
  es_prepare_dirs
  rm -f "$ES_PIDFILE"
  es_security_flags
  log "starting elasticsearch $ES_VERSION on $(es_scheme)://127.0.0.1:$ES_PORT"
  # -d daemonizes (launcher exits once the node is up); run it in the background anyway so our
  # own timeout applies. cwd=ES_RUN because the stock jvm.options use relative logs/ and data/.
  local -a as_user=()
  if ((EUID == 0)); then as_user=(runuser -u "$ES_USER" --); fi
  (
    cd "$ES_RUN"
    setsid nohup "${as_user[@]}" env -u JAVA_HOME ES_JAVA_HOME="$JAVA_HOME_17" \
      ES_PATH_CONF="$ES_RUN/config" ES_JAVA_OPTS="$ES_HEAP" \
      "$ES_HOME/bin/elasticsearch" -d -p "$ES_PIDFILE" \
      -Ediscovery.type=single-node \
      "${ES_SECURITY_FLAGS[@]}" \
      -Enetwork.host=127.0.0.1 \
      -Ehttp.port="$ES_PORT" \
      -Etransport.port="$ES_TRANSPORT_PORT" \
      -Epath.data="$ES_RUN/data" \
      -Epath.logs="$ES_RUN/logs" \
      -Ecluster.routing.allocation.disk.threshold_enabled=false \
      -Eaction.destructive_requires_name=false \
      >>"$STATE/logs/elasticsearch.out" 2>&1 </dev/null 9>&- &
    echo $! >"$STATE/pids/elasticsearch-launcher.pid"
  )
  ES_LAUNCHER_PID="$(cat "$STATE/pids/elasticsearch-launcher.pid")"
}

wait_es() {
  [[ -n "${ES_T0:-}" ]] || return 0
  local deadline=$((SECONDS + ES_START_TIMEOUT))
  # .out (launcher/console) last: JVM and CLI errors only show up there.
  local logs=("$ES_RUN/logs/elasticsearch.log" "$STATE/logs/elasticsearch.out")
  while ((SECONDS < deadline)); do
    if es_healthy; then
      log "elasticsearch ready on $(es_scheme)://127.0.0.1:$ES_PORT in $(elapsed "$ES_T0")s"
      rm -f "$STATE/pids/elasticsearch-launcher.pid"
      return 0
    fi
    # Launcher gone and no server pid: startup failed.
    if [[ -n "$ES_LAUNCHER_PID" ]] && ! kill -0 "$ES_LAUNCHER_PID" 2>/dev/null \
      && ! pid_alive "$ES_PIDFILE" "$(es_marker)" >/dev/null; then
      fail_with_logs "elasticsearch exited during startup" "${logs[@]}"
    fi
    sleep 0.5
  done
  fail_with_logs "elasticsearch not healthy after ${ES_START_TIMEOUT}s" "${logs[@]}"
}

stop_es() {
  es_paths
  local pid
  if pid="$(pid_alive "$ES_PIDFILE" "$(es_marker)")"; then
    stop_pid elasticsearch "$pid" 90
  else
    log "elasticsearch not running"
  fi
  rm -f "$ES_PIDFILE" "$STATE/pids/elasticsearch-launcher.pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- commands

with_lock() {
  mkdir -p "$STATE/pids" "$STATE/logs"
  # Self-ignoring state dir: keeps data/logs out of git without touching the repo's .gitignore.
  [[ -f "$STATE/.gitignore" ]] || echo '*' >"$STATE/.gitignore"
  # fd 9 is closed (9>&-) for the daemons we launch, or they would hold the lock forever.
  exec 9>"$STATE/pids/.lock"
  flock -w 600 9 || die "another infra.sh holds $STATE/pids/.lock"
}

targets() {
  case "${1:-all}" in
    kafka) echo kafka ;;
    es | elasticsearch) echo es ;;
    all) echo kafka es ;;
    *) die "unknown service '$1' (kafka|es|all)" ;;
  esac
}

cmd_fetch() {
  with_lock
  fetch_kafka
  fetch_es
  log "cache: $CACHE (elasticsearch home: $ES_HOME)"
}

cmd_start() {
  local svcs t0
  svcs="$(targets "${1:-all}")"
  with_lock
  t0="$(now)"
  # Launch everything first, then wait: the two JVMs boot in parallel.
  [[ "$svcs" == *kafka* ]] && launch_kafka
  [[ "$svcs" == *es* ]] && launch_es
  [[ "$svcs" == *kafka* ]] && wait_kafka
  [[ "$svcs" == *es* ]] && wait_es
  log "start done in $(elapsed "$t0")s"
}

cmd_stop() {
  local svcs
  svcs="$(targets "${1:-all}")"
  with_lock
  [[ "$svcs" == *es* ]] && stop_es
  [[ "$svcs" == *kafka* ]] && stop_kafka
  return 0
}

cmd_status() {
  local pid rc=0
  mkdir -p "$STATE"
  if pid="$(pid_alive "$KAFKA_PID" "$KAFKA_CONF/server.properties")"; then
    if kafka_healthy; then
      echo "kafka:         running, healthy  pid=$pid rss=$(rss_of "$pid") 127.0.0.1:$KAFKA_PORT (v$KAFKA_VERSION)"
    else
      echo "kafka:         running, NOT healthy  pid=$pid"; rc=1
    fi
  else
    echo "kafka:         stopped"; rc=1
  fi
  es_paths
  if pid="$(pid_alive "$ES_PIDFILE" "$(es_marker)")"; then
    if es_healthy; then
      echo "elasticsearch: running, healthy  pid=$pid rss=$(rss_of "$pid") $(es_scheme)://127.0.0.1:$ES_PORT (v$ES_VERSION)"
    else
      echo "elasticsearch: running, NOT healthy  pid=$pid"; rc=1
    fi
  else
    echo "elasticsearch: stopped"; rc=1
  fi
  echo "state: $STATE  cache: $CACHE"
  return "$rc"
}

cmd_reset() {
  cmd_stop all
  es_paths
  log "wiping data dirs"
  rm -rf "$KAFKA_DATA" "$ES_RUN/data"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    *) sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"

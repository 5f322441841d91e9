#!/usr/bin/env bash
# USSD answer time: whole Africa's Talking sessions (main menu, report, category, place, Send)
# against civicline on SQLite and on Postgres, each session from a fresh number, at each
# concurrency. The network cuts a session that waits a few seconds for a screen: the figure to
# read is p99 and max, and the filing request's (it files the report and queues its SMS).
#
#   bash benches/ussd.sh                        # 10 s per point
#   CONCURRENCY="16" STORES="sqlite" bash benches/ussd.sh
#
# PLACES: `config/places/demo.geojson` (the default: the demo city routes "Main St and 5th Ave")
# or `none`. Every line ends with the check that each session answered "Report #" filed once.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_POINT:-10}
concurrency=${CONCURRENCY:-"1 16 64"}
stores=${STORES:-"sqlite postgres"}
places=${PLACES:-config/places/demo.geojson}
token=ussd-bench-token
port=18493

cargo build --release --quiet --bin civicline --example loadgen
bin=${CIVICLINE_BIN:-target/release/civicline}
gen=target/release/examples/loadgen

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), ${seconds}s per point"
for store in $stores; do
  case $store in
    sqlite)
      db=/tmp/civicline-ussd.db
      rm -f "$db" "$db-wal" "$db-shm"
      url="sqlite://$db" ;;
    postgres)
      psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists civicline_ussd" -c "create database civicline_ussd"
      url="postgres://postgres@127.0.0.1:5432/civicline_ussd" ;;
  esac
  CIVICLINE_DATABASE__URL=$url \
  CIVICLINE_SERVER__BIND=127.0.0.1:$port \
  CIVICLINE_SMS__PROVIDER=africastalking \
  CIVICLINE_AFRICASTALKING__API_KEY=bench \
  CIVICLINE_AFRICASTALKING__WEBHOOK_TOKEN=$token \
  CIVICLINE_AFRICASTALKING__API_BASE=http://127.0.0.1:9 \
  CIVICLINE_DELIVERY__ENABLED=false \
  CIVICLINE_LOG__FILTER=warn \
  CIVICLINE_PLACES__FILE=$([ "$places" = none ] || echo "$places") \
    "$bin" serve >/tmp/civicline-ussd-$store.log 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  for c in $concurrency; do
    "$gen" ussd --label "$store" --url "http://127.0.0.1:$port/ussd/africastalking?token=$token" \
      --concurrency "$c" --seconds "$seconds" --server-pid "$server_pid" --database-url "$url"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
done

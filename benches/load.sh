#!/usr/bin/env bash
# Signed Twilio webhooks against civicline on SQLite and on Postgres, beside the ceiling (a bare
# axum handler that parses the form, checks the signature and answers fixed TwiML) and, for
# SQLite, the floor (that handler plus four rows stored, group committed: the cheapest honest
# durable store), at each concurrency, in one run. Figures go in BENCHMARKS.md.
#
#   bash benches/load.sh                  # 10 s per point; SECONDS_PER_POINT=30 for longer
#   CONCURRENCY="64" STORES="sqlite" bash benches/load.sh
#   NUMBERS="50000 1000 10" CONCURRENCY=64 STORES=sqlite bash benches/load.sh
#   PLACES="none config/places/demo.geojson" CONCURRENCY=64 STORES=sqlite bash benches/load.sh
#   SEAL="clear sealed" CONCURRENCY=64 STORES=sqlite bash benches/load.sh
#   CIVICLINE_BIN="/tmp/before /tmp/after" REPEAT=3 NUMBERS="50000 1000" CONCURRENCY=64 STORES=sqlite bash benches/load.sh
#   FLOORS="plain lookups" REPEAT=3 NUMBERS="50000 1000" CONCURRENCY=64 STORES=sqlite bash benches/load.sh
#
# CIVICLINE_BIN: the server builds to measure (default this tree's release build); with more
# than one, each point runs each build in turn, labelled `@<file name>`, so an A/B shares the
# hour. REPEAT: how many times each point (the floor, then every build) runs, interleaved; the
# machine's speed drifts by 10-20 % over minutes, so compare medians of interleaved runs.
#
# FLOORS: which floors to measure: `plain` (the default: the floor of the issue's target),
# `lookups` (it also keeps the two indexes civicline's inbound path reads), `checkpointer` (it
# checkpoints in the background as civicline does), or both joined: `lookups+checkpointer`.
# civicline's medians are read against each floor measured, in this order.
#
# INDEXES: `all` (the default) and/or `read` (an experiment, SQLite only: once the server has
# migrated its store, every index the inbound path does not read is dropped, labelled
# `-unread`): what the indexes kept for officials, the dashboard and open data cost the
# webhook, and so how near the floor index work alone could bring civicline.
#
# NUMBERS: how many phone numbers the traffic comes from (the default 50,000; 1,000 numbers
# texting a few times a second each; 10 numbers flooding). Every point has a fresh store and
# server. The ceiling is measured once per concurrency, with the first of them.
#
# PLACES: the places the server routes by, `none` (the default) or a GeoJSON file; with more
# than one, each point is run once per value, interleaved, labelled `+places` with a file.
#
# SEAL: `clear` (the default: no seal key) or `sealed` (a fresh CIVICLINE_PRIVACY__SEAL_KEY:
# numbers sealed at rest); with both, each point runs once per value, interleaved, `+sealed`.
#
# Needs a local Postgres (trust auth) for the Postgres rows. Every line ends with the check that
# each MessageSid answered 200 is stored exactly once.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_POINT:-10}
concurrency=${CONCURRENCY:-"1 16 64"}
stores=${STORES:-"sqlite postgres"}
numbers_list=${NUMBERS:-"50000"}
places_list=${PLACES:-none}
seal_list=${SEAL:-clear}
floors=${FLOORS:-plain}
index_list=${INDEXES:-all}
# Read by no statement of the inbound path (EXPLAIN QUERY PLAN of each, session 16).
unread_indexes="issue_status issue_assignee issue_created issue_time_category issue_open_status
  issue_category_durations issue_due issue_department_figures issue_open_area issue_crowd_point
  issue_event_issue message_inbound_time message_issue message_broadcast message_poll"
seal_key=$(head -c 32 /dev/urandom | base64)
token=loadgen-auth-token
ceiling_port=18490
server_port=18491
floor_port=18492

cargo build --release --quiet --bin civicline --example loadgen
bins=${CIVICLINE_BIN:-target/release/civicline}
repeat=${REPEAT:-1}
gen=target/release/examples/loadgen

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { # $1: port
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; exit 1
}

"$gen" ceiling --bind "127.0.0.1:$ceiling_port" --token "$token" 2>/dev/null &
ceiling_pid=$!
pids+=("$ceiling_pid")
wait_for $ceiling_port

results=$(mktemp)
measure() { "$gen" run "$@" | tee -a "$results"; }

serve() { # $1: store, $2: places, $3: seal, $4: the server's binary; sets url and server_pid
  case $1 in
    sqlite)
      db=/tmp/civicline-load.db
      rm -f "$db" "$db-wal" "$db-shm"
      url="sqlite://$db" ;;
    postgres)
      psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists civicline_load" -c "create database civicline_load"
      url="postgres://postgres@127.0.0.1:5432/civicline_load" ;;
  esac
  CIVICLINE_DATABASE__URL=$url \
  CIVICLINE_SERVER__BIND=127.0.0.1:$server_port \
  CIVICLINE_SERVER__PUBLIC_URL=http://127.0.0.1:$server_port \
  CIVICLINE_SMS__PROVIDER=twilio \
  CIVICLINE_TWILIO__ACCOUNT_SID=ACloadgen00000000000000000000000000 \
  CIVICLINE_TWILIO__AUTH_TOKEN=$token \
  CIVICLINE_TWILIO__FROM=+18005551212 \
  CIVICLINE_TWILIO__API_BASE=http://127.0.0.1:9 \
  CIVICLINE_LOG__FILTER=warn \
  CIVICLINE_PLACES__FILE=$([ "$2" = none ] || echo "$2") \
  CIVICLINE_PRIVACY__SEAL_KEY=$([ "$3" = clear ] || echo "$seal_key") \
    "$4" serve >/tmp/civicline-load-$1.log 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_for $server_port
  if [ "${5:-all}" = read ]; then
    for index in $unread_indexes; do sqlite3 "$db" "drop index $index"; done
  fi
}

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), ${seconds}s per point"
for store in $stores; do
 first_numbers=${numbers_list%% *}
 for numbers in $numbers_list; do
  for places in $places_list; do
  for seal in $seal_list; do
  first_variant=false
  [ "$places" = "${places_list%% *}" ] && [ "$seal" = "${seal_list%% *}" ] && first_variant=true
  for c in $concurrency; do
    if [ "$numbers" = "$first_numbers" ] && $first_variant; then
      measure --label ceiling --url "http://127.0.0.1:$ceiling_port/sms/twilio" --token "$token" \
        --concurrency "$c" --seconds "$seconds" --server-pid "$ceiling_pid"
    fi
    for _ in $(seq 1 "$repeat"); do
    if [ "$store" = sqlite ] && $first_variant; then
     for kind in $floors; do
      # The floor: the bare handler plus four rows in SQLite, group committed (loadgen.rs).
      floor_db=/tmp/civicline-floor.db
      rm -f "$floor_db" "$floor_db-wal" "$floor_db-shm"
      floor_args=()
      [ "$kind" = plain ] || for flag in ${kind//+/ }; do floor_args+=("--$flag"); done
      "$gen" floor --bind "127.0.0.1:$floor_port" --token "$token" --database "$floor_db" "${floor_args[@]}" 2>/dev/null &
      floor_pid=$!
      pids+=("$floor_pid")
      wait_for $floor_port
      floor_label=floor
      [ "$kind" = plain ] || floor_label="floor+$kind"
      [ "$numbers" = 50000 ] || floor_label="$floor_label/$numbers-numbers"
      measure --label "$floor_label" --url "http://127.0.0.1:$floor_port/sms/twilio" --token "$token" \
        --concurrency "$c" --seconds "$seconds" --server-pid "$floor_pid" --database-url "sqlite://$floor_db" \
        --numbers "$numbers"
      kill "$floor_pid"; wait "$floor_pid" 2>/dev/null || true
     done
    fi
    for bin in $bins; do
    for indexes in $index_list; do
      [ "$store" = sqlite ] || [ "$indexes" = all ] || continue
      serve "$store" "$places" "$seal" "$bin" "$indexes"
      label=$store
      [ "$numbers" = 50000 ] || label="$store/$numbers-numbers"
      [ "$places" = none ] || label="$label+places"
      [ "$seal" = clear ] || label="$label+sealed"
      [ "$indexes" = all ] || label="$label-unread"
      [ "$bins" = "${bins%% *}" ] || label="$label@$(basename "$bin")"
      measure --label "$label" --url "http://127.0.0.1:$server_port/sms/twilio" --token "$token" \
        --concurrency "$c" --seconds "$seconds" --server-pid "$server_pid" --database-url "$url" \
        --numbers "$numbers"
      kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
    done
    done
    done
  done
  done
  done
 done
done

# The median of each label's runs, and civicline's against the floor of the same traffic.
echo "# medians of $repeat run(s): label, concurrency, msg/s, msg per server CPU-s, p99, then / each floor: $floors"
awk -F'\t' -v floors="$floors" '$2 ~ /^c=/ {
  key = $1 "\t" $2; split($6, a, "="); split($8, p, "="); split($11, b, "=")
  n[key]++; rate[key, n[key]] = a[2]; p99[key, n[key]] = p[2]; eff[key, n[key]] = b[2]
  if (!(key in seen)) { seen[key] = 1; order[++keys] = key }
}
function median(arr, k, m,   i, j, t, v) {
  for (i = 1; i <= m; i++) v[i] = arr[k, i] + 0
  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
  return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}
END {
  nf = split(floors, kinds, " ")
  for (i = 1; i <= keys; i++) { k = order[i]; med[k] = median(rate, k, n[k]) }
  for (i = 1; i <= keys; i++) {
    k = order[i]; split(k, lc, "\t"); label = lc[1]
    floor = label; sub(/@.*/, "", floor); sub(/\+.*/, "", floor); sub(/-unread/, "", floor)
    if (floor ~ /^sqlite/) { sub(/^sqlite/, "floor", floor) } else { floor = "" }
    ratio = ""
    for (f = 1; f <= nf; f++) {
      of = floor; if (kinds[f] != "plain") sub(/^floor/, "floor+" kinds[f], of)
      if (floor != "" && (of "\t" lc[2]) in med) ratio = ratio sprintf("%.0f %%\t", 100 * med[k] / med[of "\t" lc[2]])
    }
    printf "%s\t%s\t%.0f\t%.0f\t%.2fms\t%s\n", label, lc[2], med[k], median(eff, k, n[k]), median(p99, k, n[k]), ratio
  }
}' "$results"
rm -f "$results"

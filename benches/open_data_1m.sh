#!/usr/bin/env bash
# Times the public dashboard, the Open311 request list and the officials' queue (the whole
# city's, and one department's) on a database of one million issues, on SQLite and on Postgres.
# Figures go in BENCHMARKS.md.
#
#   bash benches/open_data_1m.sh            # needs sqlite3 and a local Postgres (trust auth)
#   CIVICLINE_BIN=/tmp/before bash benches/open_data_1m.sh   # an earlier build
#
# The million issues span the last 365 days over the six categories and uncategorized; seven in
# ten are closed, with a first answer and a closing time. Each is in one of the demo city's four
# areas and, but for the uncategorized, taken by one of four departments (config below) with a
# promise of 72 hours; one in ten has a citizen's "Is it fixed?" answer, so the dashboard's
# promises panel reads the trail too.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CIVICLINE_BIN:-target/release/civicline}
port=18481
runs=5

seed_sql() { # $1: the row-number source, $2: the row-number column
cat <<SQL
insert into issue (citizen_id, service_code, description, location, status, language, first_response_at, closed_at, created_at, updated_at, area, department, due_at)
select null,
  case $2 % 7 when 0 then 'pothole' when 1 then 'streetlight' when 2 then 'trash' when 3 then 'graffiti' when 4 then 'water' when 5 then 'noise' else null end,
  'report number ' || $2 || ' near Main St', null,
  case when $2 % 10 < 7 then 'resolved' when $2 % 10 = 7 then 'open' when $2 % 10 = 8 then 'acknowledged' else 'in_progress' end,
  case $2 % 3 when 0 then 'en' when 1 then 'es' else 'fr' end,
  case when $2 % 10 < 9 then $now - ($2 % 365) * 86400000 + 3600000 * (1 + $2 % 48) else null end,
  case when $2 % 10 < 7 then $now - ($2 % 365) * 86400000 + 86400000 * (1 + $2 % 9) else null end,
  $now - ($2 % 365) * 86400000 - ($2 % 86400) * 1000,
  $now - ($2 % 365) * 86400000,
  case $2 % 4 when 0 then 'Northside' when 1 then 'Southside' when 2 then 'Old Town' else 'Harbor' end,
  case $2 % 7 when 0 then 'Roads' when 1 then 'Roads' when 2 then 'Sanitation' when 3 then 'Sanitation' when 4 then 'Water' when 5 then 'Parks' else null end,
  case when $2 % 7 < 6 then $now - ($2 % 365) * 86400000 - ($2 % 86400) * 1000 + 259200000 else null end
from $1;
insert into issue_event (issue_id, kind, actor, body, created_at)
select issue_id, case when issue_id % 3 = 0 then 'status' else 'confirmed_fixed' end,
  'citizen', '', closed_at + 3600000
from issue where issue_id % 10 = 0 and closed_at is not null;
update issue set fixed_answer = case when issue_id % 3 = 0 then 0 else 1 end
where issue_id % 10 = 0 and closed_at is not null;
-- Overdue work was escalated long ago (steady state), so the server's first overdue check
-- finds nothing new to send while the pages are timed.
insert into escalation (issue_id, department, recipient, subject, body, created_at, next_attempt_at, sent_at)
select issue_id, department, 'dept@city.example', 'overdue', '', due_at, due_at, due_at
from issue where closed_at is null and due_at is not null and due_at <= $now;
SQL
}

# The departments of the seeded issues, by category and area of the demo city.
config=/tmp/civicline-1m.toml
cat >"$config" <<TOML
[sla]
pothole = 72
streetlight = 72
trash = 72
graffiti = 72
water = 72
noise = 72

[[department]]
name = "Roads"
email = "roads@city.example"
categories = ["pothole", "streetlight"]

[[department]]
name = "Sanitation"
email = "sanitation@city.example"
categories = ["trash", "graffiti"]

[[department]]
name = "Water"
email = "water@city.example"
categories = ["water"]

[[department]]
name = "Parks"
email = "parks@city.example"
categories = ["noise"]
TOML
export CIVICLINE_CONFIG=$config

measure() { # $1: label
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
  # The dashboard cache is off: every /dashboard request below computes the page.
  CIVICLINE_SERVER__DASHBOARD_CACHE_SECS=0 CIVICLINE_SERVER__BIND=127.0.0.1:$port "$bin" serve >/tmp/civicline-1m.log 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  # An agent of the whole city, logged in as a browser does (same-origin form post).
  local jar=/tmp/civicline-1m.cookies url="http://127.0.0.1:$port"
  CIVICLINE_USER_PASSWORD=bench-password-long-enough "$bin" user add --email bench@city.example --role agent >/dev/null
  curl -fsS -o /dev/null -c "$jar" -H "Origin: $url" -H "Sec-Fetch-Site: same-origin" \
    --data-urlencode email=bench@city.example --data-urlencode password=bench-password-long-enough "$url/login"
  for path in /dashboard "/open311/v2/requests.json" "/open311/v2/requests.json?service_code=pothole&status=open" "/open311/v2/requests/500000.json" /queue "/queue?department=Roads"; do
    local times=()
    for _ in $(seq 1 $runs); do
      times+=("$(curl -sS -b "$jar" -o /dev/null -w '%{http_code} %{time_total}' "$url$path")")
    done
    printf '%s\t%s\t%s\n' "$1" "$path" "$(printf '%s\n' "${times[@]}" | sort -k2 -n | sed -n "$(( (runs + 1) / 2 ))p")"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

now=$(( $(date +%s) * 1000 ))
echo -e "store\tpath\tHTTP status and median seconds of $runs"

db=/tmp/civicline-1m.db
rm -f "$db" "$db-wal" "$db-shm"
export CIVICLINE_DATABASE__URL="sqlite://$db"
"$bin" migrate >/dev/null
sqlite3 "$db" "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000) $(seed_sql n i)"
sqlite3 "$db" "analyze"
measure sqlite

psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists civicline_1m" -c "create database civicline_1m"
export CIVICLINE_DATABASE__URL="postgres://postgres@127.0.0.1:5432/civicline_1m"
"$bin" migrate >/dev/null
psql -h 127.0.0.1 -U postgres -d civicline_1m -qc "$(seed_sql 'generate_series(1::bigint, 1000000) as n(i)' i)" -c "vacuum analyze"
measure postgres

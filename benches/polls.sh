#!/usr/bin/env bash
# Polls at scale (issue 18, item 4), against the release server over loopback:
# 1. queue: a store holding SUBSCRIBERS (100,000) subscribers of `roads` in three languages;
#    an admin sends a poll to them with POST /polls, timed from the request to the redirect
#    (the poll recorded, its recipients chosen, a message each on the outbox, each citizen's
#    row marked, all committed);
# 2. answers: while the delivery worker drains those messages into a local Twilio-shaped sink,
#    `loadgen run --mix poll` sends signed webhooks answering the poll ("1", "Si", "Oui",
#    "maybe next year"...), each number once, CONCURRENCY at a time for SECONDS_PER_POINT; the
#    answers counted in poll_answer per second, the webhook's answer time (its TwiML reply:
#    the reply is not delayed behind the poll's messages), and every acknowledged MessageSid
#    stored exactly once;
# 3. the outbox afterwards: how many of the poll's messages went out meanwhile.
#
#   bash benches/polls.sh
#   STORES=sqlite SUBSCRIBERS=100000 CONCURRENCY=64 SECONDS_PER_POINT=10 bash benches/polls.sh
#   DRAIN="0 100 off" STORES=sqlite bash benches/polls.sh
#
# DRAIN: how the poll's messages leave while the answers come in: `0`, as fast as the worker
# can (the default; a sink that answers at once), a number, that many a second (a provider's
# throughput: 100/s is a US short code's), or `off`, not at all (delivery disabled).
#
# Needs sqlite3 and psql (the seeding is SQL), and a local Postgres (trust auth) for its row.
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers=${SUBSCRIBERS:-100000}
seconds=${SECONDS_PER_POINT:-10}
concurrency=${CONCURRENCY:-64}
stores=${STORES:-"sqlite postgres"}
drains=${DRAIN:-0}
token=loadgen-auth-token
port=18491
sink_port=18493
password=bench-password-1

cargo build --release --quiet --bin civicline --example loadgen
bin=${CIVICLINE_BIN:-target/release/civicline}
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

"$gen" sink --bind "127.0.0.1:$sink_port" 2>/dev/null &
pids+=($!)
wait_for $sink_port

# Subscribers +14152000000.. (the numbers loadgen texts from), a third each en, es, fr.
seed="with recursive n(k) as (select 0 union all select k + 1 from n where k < $subscribers - 1)
insert into citizen (number_key, pseudonym, language, created_at)
select '+1415' || cast(2000000 + k as text), 'bench' || cast(k as text),
       case k % 3 when 0 then 'en' when 1 then 'es' else 'fr' end, 0 from n;
insert into subscription (citizen_id, topic, created_at) select citizen_id, 'roads', 0 from citizen;"

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $subscribers subscribers, ${seconds}s of answers at c=$concurrency"
for store in $stores; do
 for drain in $drains; do
  case $store in
    sqlite)
      db=/tmp/civicline-polls.db
      rm -f "$db" "$db-wal" "$db-shm"
      url="sqlite://$db"
      sql() { sqlite3 "$db" "$1"; } ;;
    postgres)
      psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists civicline_polls" -c "create database civicline_polls"
      url="postgres://postgres@127.0.0.1:5432/civicline_polls"
      sql() { psql -h 127.0.0.1 -U postgres -d civicline_polls -qtAc "$1"; } ;;
  esac
  export CIVICLINE_DATABASE__URL=$url
  "$bin" migrate >/dev/null
  sql "$seed" >/dev/null
  CIVICLINE_USER_PASSWORD=$password "$bin" user add --email admin@bench.example --role admin >/dev/null
  CIVICLINE_SERVER__BIND=127.0.0.1:$port \
  CIVICLINE_SERVER__PUBLIC_URL=http://127.0.0.1:$port \
  CIVICLINE_SMS__PROVIDER=twilio \
  CIVICLINE_TWILIO__ACCOUNT_SID=ACloadgen00000000000000000000000000 \
  CIVICLINE_TWILIO__AUTH_TOKEN=$token \
  CIVICLINE_TWILIO__FROM=+18005551212 \
  CIVICLINE_TWILIO__API_BASE=http://127.0.0.1:$sink_port \
  CIVICLINE_LOG__FILTER=warn \
  CIVICLINE_DELIVERY__ENABLED=$([ "$drain" = off ] && echo false || echo true) \
  CIVICLINE_DELIVERY__RATE_PER_SECOND=$([ "$drain" = off ] && echo 0 || echo "$drain") \
    "$bin" serve >/tmp/civicline-polls-$store.log 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_for $port

  jar=$(mktemp)
  origin="http://127.0.0.1:$port"
  curl -sf -o /dev/null -c "$jar" -H "Origin: $origin" \
    --data-urlencode "email=admin@bench.example" --data-urlencode "password=$password" "$origin/login"
  timing=$(curl -s -o /dev/null -b "$jar" -H "Origin: $origin" -w '%{http_code} %{time_total} %{redirect_url}' \
    --data-urlencode "topic=roads" --data-urlencode "days=3" --data-urlencode "action=send" \
    --data-urlencode "question_en=Should the market open on Sundays?" --data-urlencode $'options_en=Yes\nNo\nNot sure' \
    --data-urlencode "question_es=Abrir el mercado los domingos?" --data-urlencode $'options_es=Si\nNo\nNo se' \
    --data-urlencode "question_fr=Ouvrir le marche le dimanche ?" --data-urlencode $'options_fr=Oui\nNon\nJe ne sais pas' \
    "$origin/polls")
  rm -f "$jar"
  read -r code queue_seconds location <<<"$timing"
  [ "$code" = 303 ] || { echo "POST /polls answered $code" >&2; exit 1; }
  recipients=$(sql "select recipients from poll where poll_id = 1")
  queued=$(sql "select count(*) from outbox where kind = 'poll'")
  label="$store, drain $drain"
  echo "$label	poll queued	recipients=$recipients	outbox_rows=$queued	seconds=$queue_seconds	($location)"

  "$gen" run --mix poll --label "$label: poll answers" --url "$origin/sms/twilio" --token "$token" \
    --concurrency "$concurrency" --seconds "$seconds" --server-pid "$server_pid" --database-url "$url" \
    --numbers "$subscribers"
  counted=$(sql "select count(*) from poll_answer")
  options=$(sql "select count(*) from poll_answer where choice is not null")
  sent=$(sql "select count(*) from message where poll_id = 1 and provider_message_id is not null")
  echo "$label	answers counted=$counted (options $options, other $((counted - options)))	counted/s=$((counted / seconds))	poll messages sent meanwhile=$sent"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
 done
done

# tally-feedd(8): what a switch pushes is acknowledged only when stored, a
# bad request stores nothing, and the spool goes the batch path whole.
. tests/cli/lib.sh

port=$((20000 + $$ % 20000))
url=http://127.0.0.1:$port
printf '# source password format\nsh-fs s3cret freeswitch\nhcm-ast pw2 asterisk\n' >"$T/creds"
chmod 600 "$T/creds"
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$T"' EXIT
start() {
	tally-feedd --listen 127.0.0.1:$port --spool "$T/spool" --credentials "$T/creds" \
		--max-body 4096 --timeout 1 --log "$T/feedd.log" "$@" >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 50); do
		curl -sf "$url/health" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
post() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
records() { cat "$T"/spool/"$1"/*.open "$T"/spool/"$1"/*.cdr 2>/dev/null | grep -ao TSR1 | wc -l; }

chmod 644 "$T/creds"
run 1 "credentials readable by others" tally-feedd --listen 127.0.0.1:$port \
	--spool "$T/spool" --credentials "$T/creds"
contains "... are refused" "$T/err" "mode 0644"
chmod 600 "$T/creds"

start
check "the daemon answers /health" "200" "$(post "$url/health")"
json='{"variables":{"uuid":"u-1","caller_id_number":"1002","destination_number":"%2B8613987654321","start_stamp":"2026-11-21%2010%3A00%3A00","answer_stamp":"2026-11-21%2010%3A00%3A00","end_stamp":"2026-11-21%2010%3A01%3A00","duration":"60","billsec":"60","hangup_cause":"NORMAL_CLEARING","accountcode":"sh-office"}}'
check "a mod_json_cdr CDR is acknowledged" "200" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: application/json' --data-binary "$json" "$url/cdr/json")"
check "... as a form too, with Expect: 100-continue" "200" \
	"$(post -u sh-fs:s3cret -H 'Expect: 100-continue' --data-urlencode "cdr=$(echo "$json" | sed 's/u-1/u-2/')" "$url/cdr/json")"
check "a wrong password" "401" \
	"$(post -u sh-fs:nope -H 'Content-Type: application/json' --data-binary "$json" "$url/cdr/json")"
check "no credential" "401" "$(post -H 'Content-Type: application/json' --data-binary "$json" "$url/cdr/json")"
check "malformed JSON" "400" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: application/json' --data-binary '{"variables":' "$url/cdr/json")"
contains "... says why" "$T/body" "malformed JSON"
check "a wrong content type" "415" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: image/png' --data-binary "$json" "$url/cdr/json")"
check "a content type that only starts like JSON's" "415" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: application/jsonx' --data-binary "$json" "$url/cdr/json")"
head -c 5000 /dev/zero | tr '\0' x >"$T/big"
check "a body over --max-body" "413" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: application/json' --data-binary @"$T/big" "$url/cdr/json")"
check "only the two good CDRs are in sh-fs's spool" "2" "$(records sh-fs)"
check "asterisk lines to the CSV endpoint" "200" \
	"$(post -u hcm-ast:pw2 -H 'Content-Type: text/csv' --data-binary @samples/asterisk/Master.csv "$url/cdr/csv?format=asterisk")"
contains "... each line a record" "$T/body" "stored $(grep -c . samples/asterisk/Master.csv)"
check "the wrong format for the source" "400" \
	"$(post -u hcm-ast:pw2 -H 'Content-Type: text/csv' --data-binary @samples/asterisk/Master.csv "$url/cdr/csv?format=kamailio")"
# a client that opens a request and stops sending is cut off after --timeout
check "a slow client is disconnected" "closed" "$(/usr/bin/python3 - $port <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /cdr/csv?format=asterisk HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
time.sleep(2.5)
s.settimeout(2)
try:
    print("closed" if s.recv(100) == b"" else "answered")
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("still open")
PY
)"

kill -TERM $pid
wait $pid
check "SIGTERM stops cleanly" "0" "$?"
check "... leaving closed spool files only" "000000000001.cdr 000000000001.cdr" \
	"$(ls "$T/spool/sh-fs" "$T/spool/hcm-ast" | grep -v : | xargs)"
contains "... and logs what it received" "$T/feedd.log" "sh-fs: 2 CDRs received"

run 0 "the JSON CDRs go the batch path" tally-ingest --source sh-fs --format freeswitch \
	--tz Asia/Shanghai --numbering tariffs/numbering/cn.csv --spool "$T/spool"
contains "... both accepted" "$T/out" "read 2, accepted 2, rejected 0"
check "... with FreeSWITCH's meaning" "sh-office|1002|+8613987654321|60|60|answered" \
	"$(sqlite3 "$TALLY_DB" "SELECT account, caller_raw, callee_raw, duration, billsec,
	disposition FROM cdr WHERE record_key LIKE '%u-1%'")"

run 0 "tally-report feed" tally-report feed --format csv
check "... shows sh-fs's CDRs and the latest (10:00 in Shanghai)" \
	"sh-fs,1,2,2,0,0,2026-11-21T02:00:00Z" "$(grep '^sh-fs,' "$T/out")"

# killed in the middle of a write: the torn record is cut at the next start
start
post -u hcm-ast:pw2 -H 'Content-Type: text/csv' --data-binary "$(sed -n 1p samples/asterisk/Master.csv)" "$url/cdr/csv?format=asterisk" >/dev/null
kill -KILL $pid
wait $pid 2>/dev/null
printf 'TSR1\377\000\000\000\000\000\000\000torn' >>"$T/spool/hcm-ast/000000000002.open"
start
contains "after SIGKILL the next start cuts the torn record" "$T/feedd.log" "hcm-ast: closed 1 file left open, 16 torn bytes cut"
check "... and closes the file" "yes" \
	"$([ -e "$T/spool/hcm-ast/000000000002.cdr" ] && echo yes)"
kill -TERM $pid
wait $pid
run 0 "and ingests its acknowledged record" tally-ingest --source hcm-ast --format asterisk \
	--tz Asia/Ho_Chi_Minh --numbering tariffs/numbering/vn.csv --spool "$T/spool"
contains "... the 13 lines first" "$T/out" "read 13, accepted 13"
contains "... then the one, its repeat a duplicate, not the torn bytes" "$T/out" \
	"read 1, accepted 0, rejected 0, duplicates 1"

# A request is stored whole or not at all: a good line beside one of 1.1 MB,
# over ingest's line limit (allowed by a large --max-body), stores nothing.
start --max-body 3000000
before=$(records hcm-ast)
{ sed -n 1p samples/asterisk/Master.csv; head -c 1100000 /dev/zero | tr '\0' y; echo; } >"$T/mixed"
check "a line over the record limit" "400" \
	"$(post -u hcm-ast:pw2 -H 'Content-Type: text/csv' --data-binary @"$T/mixed" "$url/cdr/csv?format=asterisk")"
check "... stores not even the good line before it" "$before" "$(records hcm-ast)"
kill -TERM $pid
wait $pid

# The load test of scripts/bench-feed, small: 3000 CDRs over 8 connections,
# the daemon killed with SIGKILL while they are sent; every acknowledged CDR
# must be stored exactly once.
run 0 "a fleet of switches through a SIGKILL" scripts/bench-feed -n 3000 -c 8 -k 0.2
contains "... every CDR acknowledged" "$T/out" "acknowledged 3000 of 3000 CDRs"
contains "... and stored exactly once" "$T/out" "stored 3000 CDRs (3000 distinct)"

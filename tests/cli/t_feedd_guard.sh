# tally-feedd(8) against a clumsy operator and a hostile network: it checks
# its folders and files at start, refuses (400) what tally-ingest would
# reject before acknowledging it, range-checks numbers, keeps /health and
# the switches served under a flood of idle connections, and answers the
# clients it has at SIGTERM.
. tests/cli/lib.sh

port=$((20000 + ($$ + 7919) % 20000))
url=http://127.0.0.1:$port
printf 'sh-fs s3cret freeswitch\nhcm-ast pw2 asterisk\n' >"$T/creds"
chmod 600 "$T/creds"
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$T"' EXIT
start() {
	tally-feedd --listen 127.0.0.1:$port --spool "$T/spool" --credentials "$T/creds" \
		--timeout 10 --log "$T/feedd.log" "$@" >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 50); do
		curl -sf "$url/health" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
stop() { kill -TERM $pid; wait $pid; pid=; }
post() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
records() { cat "$T"/spool/"$1"/*.open "$T"/spool/"$1"/*.cdr 2>/dev/null | grep -ao TSR1 | wc -l; }
# bounded: a daemon that should have refused to start is stopped at 10 s
feedd() { timeout 10 tally-feedd --listen 127.0.0.1:$port --credentials "$T/creds" "$@"; }

# --- start-up checks: exit 1 and say what is wrong --------------------------
: >"$T/plain"
run 1 "--spool a regular file" feedd --spool "$T/plain"
contains "... says so" "$T/err" "--spool $T/plain: not a directory"
mkdir -p "$T/sp2"
: >"$T/sp2/sh-fs"
run 1 "a source's spool folder a regular file" feedd --spool "$T/sp2"
contains "... names it" "$T/err" "$T/sp2/sh-fs: not a directory"
run 1 "--log in a missing folder" feedd --spool "$T/spool" --log "$T/missing/dir/x"
contains "... says why, on standard error" "$T/err" "--log $T/missing/dir/x: No such file or directory"
for bad in .. . .hidden -x; do
	printf '%s pw freeswitch\n' "$bad" >"$T/creds-bad"
	chmod 600 "$T/creds-bad"
	run 1 "a source named '$bad'" timeout 10 tally-feedd --listen 127.0.0.1:$port \
		--credentials "$T/creds-bad" --spool "$T/spool"
	contains "... is refused, naming the line" "$T/err" "$T/creds-bad:1: expected SOURCE"
done
check "... and nothing was made beside the spool" "" "$(ls "$T" | grep -v -e creds -e plain -e sp2 -e out -e err -e spool)"
run 2 "tally-ingest --source .." tally-ingest --source .. --format asterisk --spool "$T/spool"
contains "... says the alphabet" "$T/err" "the first a letter or digit"

start --max-body 300000
check "start-up made every source's spool folder" "hcm-ast sh-fs" "$(ls "$T/spool" | xargs)"

# --- what ingest would reject is refused before it is acknowledged ---------
# cdr SECONDS: a mod_json_cdr body whose duration is SECONDS, as given
cdr() {
	printf '{"variables":{"uuid":"u-%s","caller_id_number":"1002","destination_number":"%%2B8613987654321","start_stamp":"2026-11-21%%2010%%3A00%%3A00","answer_stamp":"2026-11-21%%2010%%3A00%%3A00","end_stamp":"2026-11-21%%2010%%3A01%%3A00","duration":%s,"billsec":"60","hangup_cause":"NORMAL_CLEARING","accountcode":"sh-office"}}' \
		"$(echo "$1" | tr -dc 0-9a-z)" "$1"
}
json() { post -u sh-fs:s3cret -H 'Content-Type: application/json' --data-binary "$1" "$url/cdr/json"; }
check "a duration of 60 as a JSON number" "200" "$(json "$(cdr 60)")"
check "... 60.0 is 60" "200" "$(json "$(cdr 60.0)")"
check "a duration of 1e300 (no crash, not a huge negative)" "400" "$(json "$(cdr 1e300)")"
contains "... says why" "$T/body" "variable duration: 1e+300 is not a whole number"
check "a duration of 59.9 is not cut to 59" "400" "$(json "$(cdr 59.9)")"
contains "... says why" "$T/body" "variable duration: 59.9 is not a whole number"
check "a duration of 9223372036854775808 (over 64 bits)" "400" "$(json "$(cdr 9223372036854775808)")"
check "a negative duration" "400" "$(json "$(cdr '"-60"')")"
contains "... names the field as ingest does" "$T/body" "duration: not a number: \"-60\""
check "no uuid" "400" "$(json "$(cdr 60 | sed 's/"uuid":"u-60",//')")"
contains "... names it" "$T/body" "uuid: empty"
printf '%s\0{"garbage":1}' "$(cdr 61)" >"$T/nul.json"
check "raw JSON with bytes after a NUL" "400" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: application/json' --data-binary @"$T/nul.json" "$url/cdr/json")"
contains "... says so" "$T/body" "NUL byte"
{ printf 'cdr='; cdr 62 | jq -sRr @uri | tr -d '\n'; printf '\0trailing'; } >"$T/nul.form"
check "the same in a cdr= form" "400" \
	"$(post -u sh-fs:s3cret -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$T/nul.form" "$url/cdr/json")"
contains "... says so" "$T/body" "NUL byte"
check "only the two good JSON CDRs were acknowledged" "2" "$(records sh-fs)"

csv() { post -u hcm-ast:pw2 -H 'Content-Type: text/csv' --data-binary @"$1" "$url/cdr/csv?format=asterisk"; }
{ ast_cdr acme 0912345678 '2026-11-21 08:00:00' 60 k1
  ast_cdr acme 0912345678 '2026-11-21 08:00:00' 60 k2 | sed 's/,60,60,/,-60,-60,/'; } >"$T/neg.csv"
check "a CSV body whose second line has a negative duration" "400" "$(csv "$T/neg.csv")"
contains "... names the line and field" "$T/body" "line 2: duration"
{ ast_cdr acme 0912345678 '2026-11-21 08:00:00' 60 k3 | sed "s/DOCUMENTATION/$(head -c 70000 /dev/zero | tr '\0' y)/"; } >"$T/long.csv"
check "a line over ingest's 64 KiB (under --max-body)" "400" "$(csv "$T/long.csv")"
contains "... says so" "$T/body" "line too long (70"
check "nothing of either stored" "0" "$(records hcm-ast)"
ast_cdr acme 0912345678 '2026-11-21 08:00:00' 60 k4 >"$T/good.csv"
check "a good line goes in" "200" "$(csv "$T/good.csv")"
contains "each refusal is logged with the source and the reason" "$T/feedd.log" \
	"hcm-ast: refused (400): line 2: duration: not a number: \"-60\": nothing stored"
contains "... as the JSON ones" "$T/feedd.log" \
	"sh-fs: refused (400): variable duration: 1e+300 is not a whole number"

# --- an idle-connection flood ------------------------------------------------
# 600 connections from 127.0.0.2 that never send a byte (the daemon's limit
# is 512 in all); meanwhile /health and a switch on 127.0.0.1 are served,
# and the flood is cut off after --auth-timeout (2 s here), not --timeout.
stop
contains "... and counted at the stop" "$T/feedd.log" "sh-fs: 2 CDRs received, 7 requests refused"
start --auth-timeout 2 --max-per-client 32
/usr/bin/python3 - "$port" >"$T/flood" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(600):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        pass
print("opened", len(socks), flush=True)
time.sleep(4)
closed = 0
for s in socks:
    s.settimeout(0.05)
    try:
        if s.recv(1) == b"":
            closed += 1
    except (ConnectionResetError, BrokenPipeError):
        closed += 1
    except socket.timeout:
        pass
print("still open after 4 s:", len(socks) - closed)
PY
flood=$!
sleep 1
check "under the flood /health answers" "200" "$(post --max-time 2 "$url/health")"
ast_cdr acme 0912345678 '2026-11-21 08:00:00' 60 k5 >"$T/good.csv"
check "... and a switch is served" "200" "$(post --max-time 2 -u hcm-ast:pw2 -H 'Content-Type: text/csv' --data-binary @"$T/good.csv" "$url/cdr/csv?format=asterisk")"
wait $flood
contains "... the flood's connections were cut after --auth-timeout" "$T/flood" "still open after 4 s: 0"

# --- SIGTERM: every client is answered, never reset --------------------------
# Ten clients connected at SIGTERM, one of them in the middle of a slow POST
# that holds the daemon in flight; one more connecting 1.5 s later.  The ten
# get 503; the slow POST finishes and is stored (200); the late one is
# answered 503 too (the socket still listens while a request is in flight),
# and once the daemon is gone a connection is refused, not reset.
/usr/bin/python3 - "$port" "$pid" >"$T/term" 2>&1 <<'PY'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
auth = b"Authorization: Basic aGNtLWFzdDpwdzI=\r\n"
body = b'"acme","0901000001","0912345678","c","x","SIP/1-slow","SIP/2-slow","Dial","x","2026-11-21 08:00:00","2026-11-21 08:00:00","2026-11-21 08:01:00",60,60,"ANSWERED","DOCUMENTATION","slow",""\n'
def answer(s):
    s.settimeout(15)
    try:
        return s.recv(100).split(b"\r\n")[0].decode() or "closed"
    except OSError as e:
        return "reset: %s" % e
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"POST /cdr/csv?format=asterisk HTTP/1.1\r\nHost: x\r\n" + auth +
             b"Content-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:20])
socks = [socket.create_connection(("127.0.0.1", port)) for i in range(10)]
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
req = b"POST /cdr/csv?format=asterisk HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 0\r\n\r\n"
for s in socks:
    s.sendall(req)
    print("connected:", answer(s))
time.sleep(1.2)
late = socket.create_connection(("127.0.0.1", port))
late.sendall(req)
print("late:", answer(late))
slow.sendall(body[20:])
print("slow:", answer(slow))
try:
    os.waitpid(pid, 0)
except ChildProcessError:
    while os.path.exists("/proc/%d" % pid) and open("/proc/%d/stat" % pid).read().split()[2] != "Z":
        time.sleep(0.05)
try:
    socket.create_connection(("127.0.0.1", port), timeout=2)
    print("after: connected")
except ConnectionRefusedError:
    print("after: refused")
except OSError as e:
    print("after:", e)
PY
wait $pid
check "SIGTERM: each client connected then is told 503" \
	"10 connected: HTTP/1.1 503 Service Unavailable" "$(grep -c '^connected: HTTP/1.1 503' "$T/term") connected: HTTP/1.1 503 Service Unavailable"
check "... so is one connecting while a request is still in flight" \
	"late: HTTP/1.1 503 Service Unavailable" "$(grep '^late:' "$T/term")"
check "... the request in flight is stored" "slow: HTTP/1.1 200 OK" "$(grep '^slow:' "$T/term")"
check "... and once it is gone a connection is refused" "after: refused" "$(grep '^after:' "$T/term")"
pid=

# SIGKILL in the middle of a large file, then a rerun: exactly the counts
# and the CDRs of a clean run.
. tests/cli/lib.sh

N=${TALLY_KILL_LINES:-400000}
scripts/gen-cdrs -n "$N" -s 7 >"$T/big.csv"
ing() { tally-ingest --source big --format asterisk --tz Asia/Ho_Chi_Minh "$@" "$T/big.csv"; }

ing --db "$T/clean.db" >/dev/null 2>&1
clean=$(sqlite3 "$T/clean.db" 'SELECT read, accepted, rejected, duplicates FROM batch; SELECT count(*), sum(billsec), sum(start_ts) FROM cdr')

# Not through the shell function: $! must be tally-ingest itself.
tally-ingest --source big --format asterisk --tz Asia/Ho_Chi_Minh "$T/big.csv" >/dev/null 2>&1 &
pid=$!
# Kill once the transaction is well under way: the WAL has grown.
i=0
while [ "$i" -lt 600 ]; do
	sz=$(stat -c %s "$TALLY_DB-wal" 2>/dev/null || echo 0)
	[ "$sz" -gt 4000000 ] && break
	sleep 0.02
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	ok "ingest killed mid-file (WAL at $sz bytes)"
else
	not_ok "ingest killed mid-file" "it finished before the kill; raise TALLY_KILL_LINES"
fi
check "nothing of the killed file is stored" "0|0" "$(sqlite3 "$TALLY_DB" 'SELECT (SELECT count(*) FROM batch) || "|" || (SELECT count(*) FROM cdr)')"
run 0 "rerun after the kill" ing
check "rerun gives the clean run's counts and CDRs" "$clean" "$(sqlite3 "$TALLY_DB" 'SELECT read, accepted, rejected, duplicates FROM batch; SELECT count(*), sum(billsec), sum(start_ts) FROM cdr')"

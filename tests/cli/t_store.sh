# The store: TALLY_DB and --db, WAL mode, newer schema refused.
. tests/cli/lib.sh

printf '"a","1","0901234567","c","x","SIP/1","SIP/2","Dial","x","2026-11-21 10:00:00","2026-11-21 10:00:01","2026-11-21 10:00:31",31,30,"ANSWERED","DOCUMENTATION"\n' >"$T/one.csv"

run 0 "ingest into TALLY_DB" tally-ingest --source s --format asterisk "$T/one.csv"
check "TALLY_DB holds the CDR" 1 "$(sqlite3 "$TALLY_DB" 'SELECT count(*) FROM cdr')"
check "store is in WAL mode" wal "$(sqlite3 "$TALLY_DB" 'PRAGMA journal_mode')"
run 0 "--db beats TALLY_DB" tally-ingest --db "$T/other.db" --source s --format asterisk "$T/one.csv"
check "--db store holds the CDR" 1 "$(sqlite3 "$T/other.db" 'SELECT count(*) FROM cdr')"
contains "ingest prints the batch summary" "$T/out" "batch 1: $T/one.csv: read 1, accepted 1, rejected 0, duplicates 0"

sqlite3 "$TALLY_DB" 'PRAGMA user_version = 99'
run 2 "ingest refuses a newer store" tally-ingest --source s --format asterisk "$T/one.csv"
contains "newer store message" "$T/err" "schema version 99 is newer than this program supports"
run 1 "report refuses a newer store" tally-report reconcile
check "refused store left at version 99" 99 "$(sqlite3 "$TALLY_DB" 'PRAGMA user_version')"

sqlite3 "$T/foreign.db" 'CREATE TABLE t (x)'
run 2 "ingest refuses a foreign SQLite file" tally-ingest --db "$T/foreign.db" --source s --format asterisk "$T/one.csv"
contains "foreign file message" "$T/err" "not a tally store"

# Without --db or TALLY_DB the store is ./tally.db.
mkdir "$T/cwd"
(cd "$T/cwd" && env -u TALLY_DB "$TALLY_BIN/tally-ingest" --source s --format asterisk "$T/one.csv" >/dev/null 2>&1)
check "default store is ./tally.db" 1 "$(sqlite3 "$T/cwd/tally.db" 'SELECT count(*) FROM cdr' 2>&1)"

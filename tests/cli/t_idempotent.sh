# Ingesting the same directory twice changes nothing the second time.
. tests/cli/lib.sh

ing() { tally-ingest --source hcm-ast --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$@"; }
# every row of every ingest table (batch without its load time)
dump() { sqlite3 "$TALLY_DB" "SELECT id, source, format, file, sha256, bytes, read, accepted,
	rejected, duplicates FROM batch; SELECT * FROM cdr; SELECT batch_id, line, field, reason,
	hex(raw) FROM reject; SELECT * FROM duplicate" | md5sum; }

run 0 "first ingest of samples/asterisk" ing samples/asterisk
files=$(ls samples/asterisk | wc -l)
check "one batch per file" "$files" "$(grep -c '^batch ' "$T/out")"
before=$(dump)
run 0 "second ingest of the same directory" ing samples/asterisk
check "every file skipped the second time" "$files" "$(grep -c 'already ingested as batch' "$T/out")"
after=$(dump)
check "store unchanged by the second ingest" "$before" "$after"

# The same content under another name is the same file.
cp samples/asterisk/Master.csv "$T/renamed.csv"
run 0 "renamed copy" ing "$T/renamed.csv"
contains "renamed copy skipped" "$T/out" "already ingested as batch"

# A new file that repeats records: those lines are duplicates, the rest new.
head -n 3 samples/asterisk/Master.csv >"$T/overlap.csv"
printf '"acc9","0901111111","0282222222","c","x","SIP/9","SIP/8","Dial","x","2026-11-21 11:00:00","2026-11-21 11:00:01","2026-11-21 11:00:31",31,30,"ANSWERED","DOCUMENTATION","new.1",""\n' >>"$T/overlap.csv"
run 0 "overlapping file" ing "$T/overlap.csv"
contains "overlap counted as duplicates" "$T/out" "read 4, accepted 1, rejected 0, duplicates 3"
check "duplicates point at the original CDRs" 3 "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM duplicate d JOIN cdr c ON c.id = d.cdr_id AND c.record_key = d.record_key WHERE d.batch_id = (SELECT max(id) FROM batch)")"

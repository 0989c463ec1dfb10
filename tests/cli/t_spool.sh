# tally-ingest --spool: the closed files of a live feed's spool (spool.h)
# go the batch path like any switch file, torn tails cut, once each.
. tests/cli/lib.sh

S=$T/spool/hcm-ast
mkdir -p "$S"
# three good Asterisk records of samples/asterisk/Master.csv, then a torn one
spool "$S/000000000001.cdr" "$(sed -n 1p samples/asterisk/Master.csv)" \
	"$(sed -n 2p samples/asterisk/Master.csv)" "$(sed -n 3p samples/asterisk/Master.csv)"
printf 'TSR1\050\000\000\000\000\000\000\000half a rec' >>"$S/000000000001.cdr"
# a file the daemon is still writing
spool "$S/000000000002.open" "$(sed -n 4p samples/asterisk/Master.csv)"
ing() { tally-ingest --source hcm-ast --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv --spool "$T/spool"; }

run 0 "ingest the spool" ing
contains "... the three whole records" "$T/out" "read 3, accepted 3, rejected 0, duplicates 0"
contains "... the torn tail cut, and said" "$T/err" "22 bytes after the last whole record cut"
check "... the file is done" "000000000001.done 000000000002.open" "$(ls "$S" | xargs)"
check "... three CDRs stored" "3" "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM cdr")"
run 0 "again: nothing to do" ing
check "... nothing printed" "" "$(cat "$T/out")"
mv "$S/000000000002.open" "$S/000000000002.cdr"
spool "$S/000000000003.cdr" "$(sed -n 1p samples/asterisk/Master.csv)"
run 0 "a closed file, and one repeating a record" ing
contains "... the new record" "$T/out" "read 1, accepted 1"
contains "... the repeated one a duplicate" "$T/out" "read 1, accepted 0, rejected 0, duplicates 1"
check "... four CDRs in all" "4" "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM cdr")"
# stopped after the batch and before the rename: the next run only renames
spool "$S/000000000004.cdr" "$(sed -n 5p samples/asterisk/Master.csv)"
ing >/dev/null 2>&1
mv "$S/000000000004.done" "$S/000000000004.cdr"
run 0 "a file ingested but not renamed" ing
contains "... is found by its content and skipped" "$T/out" "already ingested as batch"
check "... and done" "yes" "$([ -e "$S/000000000004.done" ] && echo yes)"
run 2 "--spool and files together" tally-ingest --source hcm-ast --format asterisk \
	--spool "$T/spool" samples/asterisk/Master.csv
run 1 "a source without a spool" tally-ingest --source nope --format asterisk --spool "$T/spool"

# Overlapping runs (cron started one while the last still ran): every record
# the feed acknowledged is stored exactly once.  Three rounds of twelve
# spool files of 3,000 records, four runs at once on each round; without the
# spool lock a second run rewrote NNN.lines under the first, which stored a
# short batch and marked the whole spool file done.
O=$T/overlap/ov-ast
mkdir -p "$O"
# ov_files ROUND: spool files 12*(ROUND-1)+1 .. 12*ROUND, keys unique
ov_files() {
	/usr/bin/python3 - "$O" "$1" <<'PY'
import struct, sys, zlib
d, r = sys.argv[1], int(sys.argv[2])
for f in range(12 * (r - 1) + 1, 12 * r + 1):
    with open("%s/%012d.cdr" % (d, f), "wb") as out:
        for i in range(3000):
            k = "%02d%05d" % (f, i)
            l = ('"hcm-sales","1001","0901234567","c","x","SIP/1-%s","SIP/2-%s","Dial","x",'
                 '"2026-11-21 08:00:00","2026-11-21 08:00:00","2026-11-21 08:01:00",60,60,'
                 '"ANSWERED","DOCUMENTATION","%s",""' % (k, k, k)).encode()
            out.write(b"TSR1" + struct.pack("<II", len(l), zlib.crc32(l)) + l)
PY
}
ov() { tally-ingest --db "$T/ov.db" --source ov-ast --format asterisk --spool "$T/overlap" \
	>>"$T/ov.out" 2>>"$T/ov.err"; echo $? >>"$T/ov.rc"; }
for round in 1 2 3; do
	ov_files $round
	ov & ov & ov & ov &
	wait
done
check "overlapping --spool runs: every run succeeded" "0 0 0 0 0 0 0 0 0 0 0 0" "$(xargs <"$T/ov.rc")"
check "... every spool file done, nothing else left" "36 0" \
	"$(ls "$O" | grep -c 'done$') $(ls "$O" | grep -vc 'done$')"
check "... every record stored once (36 files of 3000)" "108000 108000" \
	"$(sqlite3 -separator ' ' "$T/ov.db" "SELECT count(*), count(DISTINCT record_key) FROM cdr")"
check "... each batch read its whole file" "36 3000 3000" \
	"$(sqlite3 -separator ' ' "$T/ov.db" "SELECT count(*), min(read), max(read) FROM batch")"
run 2 "--key with --spool (the feed acknowledged with the default keys)" tally-ingest \
	--source kam --format kamailio --key callid=sip_call_id --spool "$T/spool"
contains "... says why" "$T/err" "--key is not for --spool"

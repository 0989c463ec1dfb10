# Format corners end to end: a TAB-separated export, --tz over the map's zone,
# files with CR line ends, a file the switch appends to, a bad header.
. tests/cli/lib.sh

# TAB-separated, with an empty account field; the map says UTC, --tz says
# Asia/Ho_Chi_Minh: 2026-11-21 10:00:00 there is 03:00Z = 1795230000.
printf 'delimiter = tab\ntz = UTC\ncaller = from\ncallee = to\nstart = at\nduration = secs\nbillsec = talk\naccount = acct\n' >"$T/tab.map"
printf 'from\tto\tat\tsecs\ttalk\tacct\n0901234567\t0281234567\t2026-11-21 10:00:00\t65\t60\t\n' >"$T/tab.csv"
run 0 "TAB-separated export" tally-ingest --source t --format csv --map "$T/tab.map" --tz Asia/Ho_Chi_Minh "$T/tab.csv"
check "empty TAB field kept, --tz beats the map's tz" "|1795230000|1795230005|1795230065|60" \
    "$(sqlite3 "$TALLY_DB" "SELECT account, start_ts, answer_ts, end_ts, billsec FROM cdr WHERE source = 't'")"

# CR-only line ends: nothing may be lost silently.
tr '\n' '\r' <samples/kamailio/acc.log >"$T/cr.log"
run 0 "kamailio file with CR line ends" tally-ingest --source k --format kamailio "$T/cr.log"
contains "the CR line is rejected, not half-read" "$T/out" "read 1, accepted 0, rejected 1"
contains "and says why" "$T/err" "line: bare CR in line (a file with CR line ends?)"
tr '\n' '\r' <samples/csv/calls.csv >"$T/cr.csv"
run 1 "csv file with CR line ends fails" tally-ingest --source c --format csv --map samples/csv/calls.map "$T/cr.csv"
contains "the header says why" "$T/err" "bare CR in the header"
check "and no batch is recorded for it" 0 "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM batch WHERE source = 'c'")"

# A live file the switch keeps appending to: each run takes what is there;
# lines already stored come back as duplicates.
head -n 5 samples/asterisk/Master.csv >"$T/live.csv"
run 0 "first look at a live file" tally-ingest --source live --format asterisk "$T/live.csv"
sed -n 6,8p samples/asterisk/Master.csv >>"$T/live.csv"
run 0 "the same file, grown" tally-ingest --source live --format asterisk "$T/live.csv"
contains "old lines duplicates, new ones accepted" "$T/out" "read 8, accepted 3, rejected 0, duplicates 5"

# A header naming a mapped column twice cannot be read one way.
printf 'from,to,start,to\n1,2,2026-11-21 10:00:00,3\n' >"$T/dup.csv"
printf 'caller = from\ncallee = to\nstart = start\nduration = start\n' >"$T/dup.map"
run 1 "a header with a mapped column twice fails" tally-ingest --source d --format csv --map "$T/dup.map" "$T/dup.csv"
contains "it names the column" "$T/err" 'the header has column "to" twice'

# A file that is only a byte order mark holds no lines.
printf '\357\273\277' >"$T/bom.csv"
run 0 "BOM-only file" tally-ingest --source b --format asterisk "$T/bom.csv"
contains "read 0" "$T/out" "read 0, accepted 0, rejected 0, duplicates 0"

# An empty drop folder is said, not silent.
mkdir "$T/empty"
run 0 "empty directory" tally-ingest --source e --format asterisk "$T/empty"
contains "empty directory noted" "$T/err" "no files to ingest"

# Issue 15, part 4: real Asterisk lines (samples/public/README, worked by
# hand there): the switch's duration and billsec are stored and billed, one
# second below what the whole-second times give.
run 0 "real Asterisk lines" tally-ingest --source pub --format asterisk samples/public/asterisk-billsec.csv
contains "all four accepted" "$T/out" "read 4, accepted 4, rejected 0, duplicates 0"
check "the switch's duration and billsec, not the times' differences" "8|5|9|5
660|654|660|655
21|11|21|12
0|0|0|" "$(sqlite3 "$TALLY_DB" "SELECT duration, billsec, end_ts - start_ts, end_ts - answer_ts
    FROM cdr WHERE source = 'pub' ORDER BY line")"

# Issue 15, part 5: a 16-column line among 18-column ones is rejected,
# naming both counts; declared mixed, it goes in under the key the same
# leg has in 18 columns, so its full line later is a duplicate.
run 0 "a line of another layout" tally-ingest --source ml --format asterisk samples/bad/asterisk-mixed-layouts.csv
contains "rejected alone" "$T/out" "read 3, accepted 2, rejected 1"
contains "naming both counts" "$T/err" "line: 16 columns, but the file's lines have 18 (a source that mixes layouts: --mixed-layouts)"
# (the same file under a second source: --also-under-source says it is meant)
run 0 "declared mixed" tally-ingest --source mx --format asterisk --mixed-layouts \
    --also-under-source samples/bad/asterisk-mixed-layouts.csv
contains "all go in" "$T/out" "read 3, accepted 3, rejected 0"
sed -n 2p samples/bad/asterisk-mixed-layouts.csv | sed 's/$/,"1795240320.253",""/' >"$T/full.csv"
run 0 "the short line's leg again, in 18 columns" tally-ingest --source mx --format asterisk "$T/full.csv"
contains "is a duplicate, not a second call" "$T/out" "read 1, accepted 0, rejected 0, duplicates 1"
check "its key, from the 16 common columns" "PJSIP/1002-00000153|PJSIP/viettel-00000154|1002|0912345678|2026-11-21 12:52:00|2026-11-21 12:52:06|2026-11-21 12:53:06" \
    "$(sqlite3 "$TALLY_DB" "SELECT record_key FROM cdr WHERE source = 'mx' AND line = 2")"
run 2 "--mixed-layouts is for asterisk only" tally-ingest --source f --format freeswitch --mixed-layouts samples/freeswitch/Master.csv
contains "says so" "$T/err" "--mixed-layouts is only for format asterisk"

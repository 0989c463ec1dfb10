# tally-report: reconcile and rejects, text and CSV, reasons as the rules state.
. tests/cli/lib.sh

run 1 "report on a missing store fails" tally-report --db "$T/none.db" reconcile
check "and does not create it" absent "$([ -e "$T/none.db" ] && echo present || echo absent)"

tally-ingest --source a --format asterisk --tz Asia/Ho_Chi_Minh samples/bad/asterisk-end-before-answer.csv \
    samples/bad/asterisk-nonnumeric-duration.csv samples/bad/asterisk-unknown-disposition.csv \
    samples/bad/binary-garbage.csv samples/bad/long-line.csv >/dev/null 2>&1
tally-ingest --source f --format freeswitch --tz Asia/Shanghai samples/bad/freeswitch-unknown-cause.csv >/dev/null 2>&1
tally-ingest --source k --format kamailio samples/bad/kamailio-garbage.log >/dev/null 2>&1

run 0 "reconcile csv" tally-report reconcile --format csv
check "reconcile csv header" "batch,source,file,read,accepted,rejected,duplicates" "$(head -n 1 "$T/out")"
check "read = accepted + rejected + duplicates on every row" "" \
    "$(awk -F, 'NR > 1 && $4 != $5 + $6 + $7' "$T/out")"
check "one row per batch" 7 "$(($(wc -l <"$T/out") - 1))"
run 0 "reconcile text" tally-report reconcile
# read 3+3+3+45+3+3+4, accepted 2+2+2+0+2+2+2, rejected 1+1+1+45+1+1+2
check "text total row adds up the batches" \
    "total 64 12 52 0" "$(tail -n 1 "$T/out" | tr -s ' ')"

run 0 "rejects csv" tally-report rejects --format csv
check "rejects csv header" "batch,file,line,field,reason,raw" "$(head -n 1 "$T/out")"
# Reasons exactly as tally-cdr(5) words them (samples/bad/README).
contains "end before answer" "$T/out" "1,samples/bad/asterisk-end-before-answer.csv,2,end,end before answer,"
contains "non-numeric duration" "$T/out" '2,samples/bad/asterisk-nonnumeric-duration.csv,2,duration,"not a number: ""12s""",'
contains "unknown disposition" "$T/out" '3,samples/bad/asterisk-unknown-disposition.csv,2,disposition,"unknown disposition ""UNKNOWN""",'
contains "NUL byte" "$T/out" "4,samples/bad/binary-garbage.csv,9,line,NUL byte in line,"
contains "1 MB line" "$T/out" "5,samples/bad/long-line.csv,2,line,line too long (1048576 bytes),"
contains "unknown hangup cause" "$T/out" '6,samples/bad/freeswitch-unknown-cause.csv,2,hangup_cause,"unknown hangup cause ""CALL_DROPPED""",'
contains "not a CDR line" "$T/out" "7,samples/bad/kamailio-garbage.log,2,line,not an acc CDR line,"
contains "missing end_time" "$T/out" "7,samples/bad/kamailio-garbage.log,3,end_time,missing,"

check "the 1 MB line is kept up to 64 KiB" 65536 \
    "$(sqlite3 "$TALLY_DB" "SELECT length(raw) FROM reject WHERE batch_id = 5")"
check "raw bytes kept exactly (binary line 1)" \
    "$(sed -n 1p samples/bad/binary-garbage.csv | od -An -tx1 | tr -d ' \n' | sed 's/0a$//')" \
    "$(sqlite3 "$TALLY_DB" "SELECT hex(raw) FROM reject WHERE batch_id = 4 AND line = 1" | tr 'A-F' 'a-f')"

run 0 "rejects of one batch" tally-report rejects --batch 6
check "only batch 6" "samples/bad/freeswitch-unknown-cause.csv:2: hangup_cause: unknown hangup cause \"CALL_DROPPED\"" \
    "$(head -n 1 "$T/out")"
check "text escapes bytes that are not UTF-8" 1 \
    "$(tally-report rejects --batch 4 | grep -cF '    \xe6\xf63J~')"

# Minute bundles (tally-tariff(5) BUNDLES): windows, exhaustion, renewal,
# rollover, cancellation, and the calls that draw on them.  The package is
# tests/cli/bundles; every expected value is worked out by hand in
# tests/cli/bundles.expect.notes from the man page's rules.
. tests/cli/lib.sh

line='"%s","0901000001","%s","c","x","SIP/1-%s","SIP/2-%s","Dial","x","%s","%s","%s",%d,%d,"%s","DOCUMENTATION","%s",""\n'
# cdr ACCOUNT CALLEE LOCAL_START RING_SECONDS BILLSEC KEY [DISPOSITION]
cdr() {
	answer=$(date -u -d "$3 UTC + $4 seconds" '+%Y-%m-%d %H:%M:%S')
	end=$(date -u -d "$answer UTC + $5 seconds" '+%Y-%m-%d %H:%M:%S')
	if [ "${7:-ANSWERED}" = ANSWERED ]; then
		printf "$line" "$1" "$2" "$6" "$6" "$3" "$answer" "$end" $(($4 + $5)) "$5" ANSWERED "$6"
	else
		printf "$line" "$1" "$2" "$6" "$6" "$3" "" "$answer" "$4" 0 "$7" "$6"
	fi
}
ON=0901234567
OFF=0281234567
{
	cdr A1 $ON  "2026-10-21 10:00:00" 0 480 a1-1
	cdr A1 $ON  "2026-10-22 10:00:00" 30 0 a1-2 "NO ANSWER"
	cdr A1 $ON  "2026-10-23 10:00:00" 0 300 a1-3
	cdr A1 $ON  "2026-11-05 10:00:00" 0 60 a1-4
	cdr A1 $OFF "2026-11-25 10:00:00" 0 120 a1-5
	cdr A1 $ON  "2026-12-02 10:00:00" 0 120 a1-6
	cdr A2 $ON  "2026-11-02 09:00:00" 0 240 a2-1
	cdr A2 $ON  "2026-11-03 09:00:00" 10 150 a2-2
	cdr A2 $ON  "2026-11-04 09:00:00" 20 0 a2-3 BUSY
	cdr A3 $ON  "2026-11-02 10:00:00" 0 61 a3-1
	cdr A3 $ON  "2026-11-20 23:58:00" 0 300 a3-2
	cdr A4 $ON  "2026-11-10 10:00:00" 0 600 a4-1
	cdr A4 $ON  "2026-11-11 10:00:00" 0 120 a4-2
} >"$T/calls.csv"
ing() { tally-ingest --source s --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$@" >/dev/null 2>&1; }
ratings() { sqlite3 "$TALLY_DB" "SELECT c.record_key, r.status, r.billed_seconds,
	r.amount / 1000000, coalesce((SELECT group_concat(kind || ':' || label || ':' || seconds
	|| '@' || (price / 1000000), ' ') FROM (SELECT * FROM rating_piece p
	WHERE p.cdr_id = c.id ORDER BY seq)), '') FROM rating r JOIN cdr c ON c.id = r.cdr_id
	ORDER BY 1" | sed 's/^SIP\/1-\([^|]*\)|SIP[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|/\1|/'; }
windows() { sqlite3 "$TALLY_DB" "SELECT payer, seq, start_local, end_local, ended, granted,
	rolled_in, used, rolled_out, forfeited, price / 1000000, period_from, period_to
	FROM bundle_window ORDER BY payer, seq"; }

fresh_db
run 0 "the bundle package validates" tally-tariff validate tests/cli/bundles
contains "validate counts bundles and subscriptions" "$T/out" "4 bundles, 4 subscriptions"
tally-tariff load tests/cli/bundles >/dev/null
ing "$T/calls.csv"
run 0 "rate the bundle scenarios" tally-rate
contains "tally-rate says how many windows it stored" "$T/out" "bundle windows: 12"
# Worked by hand in tests/cli/bundles.expect.notes: exhaustion mid-call with overage at the
# tiers (a1-3), renewal at exhaustion with two charges (A2 #1 and #2, the second starting at
# 09:01:10), expiry with forfeit (A1 #2), rollover capped at 3 minutes and expiring after one
# window (A3), a window over two months (A1 #2, A2 #2), unanswered calls that take nothing
# (a1-2, a2-3), a call across its window's end (a3-2), off-net while holding an on-net bundle
# (a1-5), cancellation (A3 #4), bundle seconds that move the tier position (A4).
check "each call's charge and pieces" "$(cat tests/cli/bundles.ratings.expect)" "$(ratings)"
check "each window" "$(cat tests/cli/bundles.windows.expect)" "$(windows)"
before_w=$(windows) before_r=$(ratings)

# Re-rating the same CDRs: a new tariff version with the same bundles re-rates everything.
cp -r tests/cli/bundles "$T/v2"
printf '# a comment: the same tariff, a new version\n' >>"$T/v2/plans.csv"
tally-tariff load "$T/v2" >/dev/null
run 0 "re-rate with an equal version" tally-rate
check "re-rating gives identical windows" "$before_w" "$(windows)"
check "re-rating gives identical charges" "$before_r" "$(ratings)"
run 0 "tally-replay of the batch finds no difference" tally-replay --batch 1
contains "replay checks the windows too" "$T/err" "12 bundle windows, 0 payers' differ"

# A tampered window is found by replay, naming the window and the field.
cp "$TALLY_DB" "$T/tampered.db"
sqlite3 "$T/tampered.db" "UPDATE bundle_window SET used = used + 60, forfeited = forfeited - 60
	WHERE payer = 'A2' AND seq = 2"
run 1 "replay of a tampered store fails" tally-replay --db "$T/tampered.db" --batch 1
contains "the changed window is named" "$T/out" "window A2 #2: used: stored 150, replayed 90"

# The report: windows in force in November, charges of the windows that start in it.
run 0 "bundles report, November" tally-report bundles --period 2026-11
# November starts: A1 #2, A2 #1, A2 #2, A3 #1-#3, A4 #1 = 50000 + 2 * 30000 + 3 * 40000 + 10000
contains "November's charges" "$T/out" "charged in 2026-11: 7 windows, 240000 VND"
run 0 "bundles report, December, csv, one account" tally-report bundles --period 2026-12 \
    --account A1 --format csv
check "A1 in December: #2 (charged in November) and #3 (open, charged in December)" \
"account,window,bundle,class,start,end,ended,granted_seconds,rolled_in_seconds,used_seconds,left_seconds,rolled_out_seconds,forfeited_seconds,price,tax,charged_in_period,currency
A1,2,small-on,onnet,2026-11-20 00:00:00,2026-12-21 00:00:00,expired,600,0,120,0,0,480,50000,included,no,VND
A1,3,small-on,onnet,2026-12-21 00:00:00,2027-01-21 00:00:00,open,600,0,0,600,0,0,50000,included,yes,VND" \
    "$(cat "$T/out")"
run 0 "bundles report, json" tally-report bundles --period 2026-12 --account A2 --format json
contains "json holds the open window with what is left" "$T/out" \
    '"window": 3, "bundle": "renew-on", "class": "onnet", "start": "2026-12-04 09:01:10", "end": "2027-01-04 09:01:10", "ended": "open", "granted_seconds": 300, "rolled_in_seconds": 0, "used_seconds": 0, "left_seconds": 300'
run 2 "bundles needs a period" tally-report bundles

# A January call moves the store's last period: every subscribed account's windows now
# reach the end of January.  A2 #3 (from 2026-12-04 09:01:10) ends 2027-01-04 09:01:10 with
# the 60 s of the call below used, 240 forfeited; #4 starts then, open.
cdr A2 $ON "2027-01-02 10:00:00" 0 60 a2-4 >"$T/jan.csv"
ing "$T/jan.csv"
run 0 "rate a January call" tally-rate
check "A2's windows reach January" \
"A2|3|2026-12-04 09:01:10|2027-01-04 09:01:10|expired|300|0|60|0|240|30000|2026-12|2027-01
A2|4|2027-01-04 09:01:10|2027-02-04 09:01:10|open|300|0|0|0|0|30000|2027-01|2027-02" \
    "$(windows | grep '^A2|[34]|')"
# A4 had no January call: its open window #2 (Dec 2 - Jan 2) now expires, #3 is open.
check "A4's windows follow without calls" \
"A4|2|2026-12-02 00:00:00|2027-01-02 00:00:00|expired|120|0|0|0|120|10000|2026-12|2027-01
A4|3|2027-01-02 00:00:00|2027-02-02 00:00:00|open|120|0|0|0|0|10000|2027-01|2027-02" \
    "$(windows | grep '^A4|[23]|')"

# A late CDR of October re-rates A1's whole timeline: 60 s more on 2026-10-21 leave
# window #1 60 s less for a1-3 (60 covered, 240 overage = 2000 VND).
cdr A1 $ON "2026-10-21 12:00:00" 0 60 a1-0 >"$T/late.csv"
ing "$T/late.csv"
run 0 "rate a late October call" tally-rate
check "the late call is covered" "a1-0|rated|60|0|bundle:small-on #1:60@0" \
    "$(ratings | grep '^a1-0|')"
check "the later call now has less bundle" \
    "a1-3|rated|300|2000|bundle:small-on #1:60@0 tier:0-10:240@500" "$(ratings | grep '^a1-3|')"

# Validation: one bundle at a time, known bundles, cancellation after activation.
cp -r tests/cli/bundles "$T/bad"
printf 'A1,renew-on,2026-11-01,,\nA2,nope,2026-11-01,,\nA4,small-on,2026-11-01,2026-10-01,\nA3,small-on,2026-11-01,,sometimes\n' \
    >>"$T/bad/subscriptions.csv"
run 1 "a package with bad subscriptions is refused" tally-tariff validate "$T/bad"
contains "overlapping subscriptions" "$T/err" \
    "subscriptions.csv:6:activated: account \"A1\" holds the bundle of line 2 then: one bundle at a time"
contains "unknown bundle" "$T/err" "subscriptions.csv:7:bundle: unknown bundle \"nope\""
contains "cancelled before activated" "$T/err" \
    "subscriptions.csv:8:cancelled: cancelled at or before its activation"
contains "bad on_exhaustion" "$T/err" \
    "subscriptions.csv:9:on_exhaustion: \"sometimes\" is not renew or overage"
printf 'x,sms,1,1,included,31,auto,overage,,,,second\n' >>"$T/bad/bundles.csv"
sed -i 's/^offnet,20,voice/sms,5,sms,,^x$,caller\noffnet,20,voice/' "$T/bad/classes.csv"
run 1 "a bundle of an sms class is refused" tally-tariff validate "$T/bad"
contains "sms bundle" "$T/err" "bundles.csv:10:class: sms class \"sms\" has no minutes"

# A 50-minute call on a 5-minute bundle that renews at once: ten windows of 300 s cover it
# all (3000 / 300 = 10), the tenth runs out at the call's end and an eleventh starts then.
fresh_db
tally-tariff load tests/cli/bundles >/dev/null
cdr A2 $ON "2026-11-02 09:00:00" 0 3000 long >"$T/long.csv"
ing "$T/long.csv"
tally-rate >/dev/null
check "a long call draws on as many renewals as it needs" "long|rated|3000|0|10" \
    "$(ratings | awk -F'|' '{ print $1 "|" $2 "|" $3 "|" $4 "|" gsub(/bundle:renew-on/, "") }')"
check "the eleventh window starts at the call's end" \
    "A2|11|2026-11-02 09:50:00|2026-12-03 09:50:00|open" \
    "$(windows | grep '^A2|11|' | cut -d'|' -f1-5)"

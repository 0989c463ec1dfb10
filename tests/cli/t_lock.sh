# An invoiced period keeps the tariff version its invoiced calls were rated
# with (tally-invoice(1), LATE CALLS), when that version can stand in for
# the current one; when it cannot, the current one rates the period and
# tally-rate still runs.  Figures by hand from tests/cli/late-vn:
# off-net 900/min to 10 minutes a month, 850 above (60/60); on-net 500/min
# per second; bundle bx of 10 on-net minutes.
. tests/cli/lib.sh

ON=0901234567
OFF=0281234567
ingest() { tally-ingest --source lvn --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$1" >/dev/null 2>&1; }
draft() { sqlite3 "$TALLY_DB" "SELECT l.kind, l.quantity, l.exact / 1000000 FROM invoice i
	JOIN invoice_line l ON l.invoice_id = i.id WHERE i.status = 'draft' ORDER BY l.kind" |
	tr '|' ' ' | paste -sd' '; }

# Closed without rating after a dearer version (1000 / 950) was loaded:
# October's invoice charged the ratings it found, of the first version
# (10 min at 900 + 2 at 850 = 10700), so October keeps that one.  A 1-minute
# late call: October whole is 10 at 900 + 3 at 850 = 11550, so 850 more.
fresh_db
cp -r tests/cli/late-vn "$T/v2"
sed -i 's/,900$/,1000/; s/,850$/,950/' "$T/v2/tiers.csv"
tally-tariff load tests/cli/late-vn >/dev/null
{ ast_cdr TB $OFF "2026-10-05 10:00:00" 360 a; ast_cdr TB $OFF "2026-10-20 10:00:00" 360 b; } >"$T/oct.csv"
ast_cdr TB $OFF "2026-10-10 10:00:00" 60 late >"$T/late.csv"
ingest "$T/oct.csv"
tally-rate >/dev/null 2>&1
tally-tariff load "$T/v2" >/dev/null
tally-invoice close --period 2026-10 --account TB >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account TB >/dev/null 2>&1
check "October closed on the first version's ratings charges 10700" 10700 \
	"$(sqlite3 "$TALLY_DB" "SELECT total / 1000000 FROM invoice WHERE status = 'issued'")"
ingest "$T/late.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 --account TB >/dev/null 2>&1
check "... its late call is charged at those prices: 1 minute at 850" "prior 1.00 850" "$(draft)"

# A version that adds a subscription (another account's) cannot stand in:
# the current one rates BX's October again, at the same prices.  Its late
# on-net 3 minutes come after the bundle's 10 were used: 3.00 at 500 = 1500.
fresh_db
cp -r tests/cli/late-vn "$T/v3"
echo "AA,p,Asia/Ho_Chi_Minh,2025-01-01,New subscriber" >>"$T/v3/accounts.csv"
echo "AA,bx,2026-10-15 09:00" >>"$T/v3/subscriptions.csv"
tally-tariff load tests/cli/late-vn >/dev/null
{ ast_cdr BX $ON "2026-10-05 10:00:00" 360 a; ast_cdr BX $ON "2026-10-20 10:00:00" 360 b; } >"$T/bx.csv"
ast_cdr BX $ON "2026-10-10 10:00:00" 180 late >"$T/bxlate.csv"
ingest "$T/bx.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 --account BX >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account BX >/dev/null 2>&1
tally-tariff load "$T/v3" >/dev/null
ingest "$T/bxlate.csv"
run 0 "a version with a new subscription rates" tally-rate
tally-invoice close --period 2026-11 --account BX >/dev/null 2>&1
check "... and BX's late call costs 3 minutes at 500 (and window #2 its price)" \
	"bundle 1 50000 prior 3.00 1500" "$(draft)"

# A version that moves a toll-free number to another owner cannot stand in
# either: the late call is the new owner's, and rating runs.
fresh_db
mkdir -p "$T/o1"
cp tests/cli/late-vn/*.csv "$T/o1/"
printf 'class,priority,type,caller,callee,payer\ntollfree,5,voice,,^\\+841800,owner\nonnet,10,voice,,^\\+8490[0-9]{7}$,caller\noffnet,20,voice,,^\\+84[0-9]+$,caller\n' >"$T/o1/classes.csv"
printf 'plan,class,pricing\np,tollfree,tiers:onnet\np,onnet,tiers:onnet\np,offnet,tiers:offnet\npt,tollfree,tiers:onnet\npt,onnet,tiers:onnet\npt,offnet,tiers:offnet\n' >"$T/o1/plan_classes.csv"
printf 'number,account\n+8418001234,TB\n' >"$T/o1/numbers.csv"
cp -r "$T/o1" "$T/o2"
printf 'number,account\n+8418001234,TM\n' >"$T/o2/numbers.csv"
run 0 "a package with an owner-paid number validates" tally-tariff validate "$T/o1"
tally-tariff load "$T/o1" >/dev/null
ast_cdr QF 18001234 "2026-10-05 10:00:00" 60 t1 >"$T/tf.csv"
ast_cdr QF 18001234 "2026-10-10 10:00:00" 60 t2 >"$T/tflate.csv"
ingest "$T/tf.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 --account TB >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account TB >/dev/null 2>&1
tally-tariff load "$T/o2" >/dev/null
ingest "$T/tflate.csv"
run 0 "a version that gives the number to another owner rates" tally-rate
check "... the late call is the new owner's" "TM" \
	"$(sqlite3 "$TALLY_DB" "SELECT r.payer FROM rating r JOIN cdr c ON c.id = r.cdr_id
		WHERE c.start_ts = (SELECT max(start_ts) FROM cdr)")"

# A version may not move the billing day or the zone of an account with an
# issued invoice: its invoiced periods would be cut anew under the invoice
# (October's calls of the 5th and the 20th would fall in "2026-09" and
# "2026-10" of a billing day 15, and tally-rate failed for the whole store).
# An account never invoiced may change both.
fresh_db
# with_days FILE ACCOUNT DAY: accounts.csv with a billing_day column, DAY
# for ACCOUNT, the default (empty) for the others
with_days() {
	awk -F, -v OFS=, -v a="$2" -v d="$3" 'NR == 1 { print $0, "billing_day"; next }
		{ print $0, ($1 == a ? d : "") }' tests/cli/late-vn/accounts.csv >"$1"
}
cp -r tests/cli/late-vn "$T/d15"
with_days "$T/d15/accounts.csv" TB 15
cp -r tests/cli/late-vn "$T/z"
sed 's|^TB,p,Asia/Ho_Chi_Minh,|TB,p,Asia/Bangkok,|' tests/cli/late-vn/accounts.csv >"$T/z/accounts.csv"
cp -r tests/cli/late-vn "$T/q15"
with_days "$T/q15/accounts.csv" QF 15
tally-tariff load tests/cli/late-vn >/dev/null
{ ast_cdr TB $OFF "2026-10-05 10:00:00" 360 a; ast_cdr TB $OFF "2026-10-20 10:00:00" 360 b; } >"$T/oct.csv"
ingest "$T/oct.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 --account TB >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account TB >/dev/null 2>&1
run 1 "a version moving an invoiced account's billing day" tally-tariff load "$T/d15"
contains "... is refused naming file, line, field, account and invoice" "$T/err" \
	"$T/d15/accounts.csv:6:billing_day: account TB: billing day 1 in Asia/Ho_Chi_Minh would become 15 in Asia/Ho_Chi_Minh, re-cutting periods already invoiced (lvn-000001, period 2026-10)"
run 1 "... and one moving its zone" tally-tariff load "$T/z"
contains "... names the zones" "$T/err" "accounts.csv:6:timezone: account TB: billing day 1 in Asia/Ho_Chi_Minh would become 1 in Asia/Bangkok"
check "... neither was loaded" "1" "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM tariff_version")"
run 0 "an account never invoiced may move its billing day" tally-tariff load "$T/q15"
ast_cdr TB $OFF "2026-10-10 10:00:00" 60 late >"$T/late.csv"
ingest "$T/late.csv"
run 0 "... and tally-rate still runs" tally-rate

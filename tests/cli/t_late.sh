# Late calls and quiet months (tally-invoice(1), LATE CALLS and QUIET MONTHS):
# a CDR that arrives after its period was invoiced is charged what it adds to
# the period rated whole, in call order (tier boundaries, test minutes, bundle
# minutes, minimum true-ups already invoiced); a period with no CDR at all is
# invoiced its bundles, fees and minimums.  The scenario is
# tests/cli/late.scenario; every figure of tests/cli/late.expect was worked out
# by hand from the man pages (tests/cli/late.expect.notes), not from tally.
. tests/cli/lib.sh

ON=0901234567
OFF=0281234567
ingest() { tally-ingest --source lvn --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$1" >/dev/null 2>&1; }
doc() {
	tally-export --invoice "$1" --format json | jq -r '
	"\(.number) \(.account) \(.period) subtotal=\(.subtotal) tax=\(.tax) total=\(.total) previous=\(.previous_balance) payments=\(.payments) due=\(.amount_due)",
	([.lines[] | "  \(.kind) qty=\(.quantity) unit=\(.unit_price) amount=\(.amount) rate=\(.tax_rate) tax=\(.tax) net=\(.net)"] | sort | .[])'
}
# what the issued invoices charged of a period's usage, per account, beside
# the whole period rated now
charged() {
	sqlite3 "$TALLY_DB" "SELECT i.account, sum(u.exact) / 1000000 FROM invoice_usage u
		JOIN invoice i ON i.id = u.invoice_id WHERE i.status = 'issued' AND u.period = '$1'
		GROUP BY i.account ORDER BY i.account" | paste -sd' '
}
rated() {
	sqlite3 "$TALLY_DB" "SELECT payer, sum(amount) / 1000000 FROM rating
		WHERE period = '$1' AND status = 'rated' GROUP BY payer ORDER BY payer" | paste -sd' '
}

{
	ast_cdr TB $OFF "2026-10-05 10:00:00" 360 tb-1
	ast_cdr TB $OFF "2026-10-20 10:00:00" 360 tb-2
	ast_cdr TM $OFF "2026-10-05 10:00:00" 240 tm-1
	ast_cdr TM $OFF "2026-10-20 10:00:00" 240 tm-2
	ast_cdr BX $ON  "2026-10-05 10:00:00" 360 bx-1
	ast_cdr BX $ON  "2026-10-20 10:00:00" 360 bx-2
	ast_cdr TT $OFF "2026-10-05 10:00:00" 360 tt-1
	ast_cdr TT $OFF "2026-10-20 10:00:00" 360 tt-2
	ast_cdr MM $OFF "2026-10-05 10:00:00" 120 mm-1
} >"$T/oct.csv"
{
	ast_cdr TB $OFF "2026-10-10 10:00:00" 180 tb-late
	ast_cdr TM $OFF "2026-10-10 10:00:00" 180 tm-late
	ast_cdr BX $ON  "2026-10-10 10:00:00" 180 bx-late
	ast_cdr TT $OFF "2026-10-10 10:00:00" 180 tt-late1
	ast_cdr MM $OFF "2026-10-10 10:00:00" 180 mm-late
} >"$T/late1.csv"
ast_cdr TB $OFF "2026-11-03 10:00:00" 120 tb-3 >"$T/nov.csv"
ast_cdr TT $OFF "2026-10-25 10:00:00" 120 tt-late2 >"$T/late2.csv"

fresh_db
run 0 "the late-call package validates" tally-tariff validate tests/cli/late-vn
tally-tariff load tests/cli/late-vn >/dev/null
ingest "$T/oct.csv"
tally-rate >/dev/null 2>&1
run 0 "October closes" tally-invoice close --period 2026-10
tally-invoice issue --period 2026-10 >"$T/out" 2>&1
contains "... and issues five invoices (QB and QF owe nothing in October)" "$T/out" \
	"issued 5 invoices: lvn-000001 to lvn-000005"

ingest "$T/late1.csv"
tally-rate >/dev/null 2>&1
ingest "$T/nov.csv"
run 0 "the late calls and November rate" tally-rate
run 0 "closing October again changes nothing" tally-invoice close --period 2026-10
contains "... every October invoice is issued" "$T/out" "0 drafts with 0 calls, 5 already issued"
tally-invoice close --period 2026-11 >/dev/null 2>&1
tally-invoice issue --period 2026-11 >"$T/out" 2>&1
contains "November issues five invoices" "$T/out" "issued 5 invoices: lvn-000006 to lvn-000010"
check "the late calls are itemized on November's invoices, with November's own" \
	"BX 2026-10-10 10:00:00|MM 2026-10-10 10:00:00|TB 2026-10-10 10:00:00|TB 2026-11-03 10:00:00|TM 2026-10-10 10:00:00|TT 2026-10-10 10:00:00" \
	"$(sqlite3 "$TALLY_DB" "SELECT i.account || ' ' || datetime(c.start_ts, 'unixepoch',
		'+7 hours') FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id
		JOIN cdr c ON c.id = ic.cdr_id WHERE i.period = '2026-11' ORDER BY 1" | paste -sd'|')"

ingest "$T/late2.csv"
tally-rate >/dev/null 2>&1
# December: no CDR of December in the store at all
check "the store has no CDR of December or later" 0 \
	"$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM rating WHERE period >= '2026-12'")"
tally-invoice close --period 2026-12 >/dev/null 2>&1
tally-invoice issue --period 2026-12 >"$T/out" 2>&1
contains "December, a quiet month, issues four invoices" "$T/out" \
	"issued 4 invoices: lvn-000011 to lvn-000014"

for x in $(tally-invoice list | awk '$1 != "draft" { print $1 }' | sort); do doc "$x"; done >"$T/docs"
if diff -u tests/cli/late.expect "$T/docs" >"$T/diff"; then
	ok "every invoice is as worked out by hand (tests/cli/late.expect)"
else
	not_ok "every invoice is as worked out by hand" "$(head -60 "$T/diff")"
fi

# the rule itself, against the hand-worked October totals (late.expect.notes, CHECK)
check "October's invoices add up to October rated whole, in call order" \
	"BX|2500 MM|4500 TB|13250 TM|5400 TT|14950" "$(charged 2026-10)"
check "... which is what the store rates October at now" "$(charged 2026-10)" "$(rated 2026-10)"

# A new tariff version with dearer tiers (1000 / 950 off-net, 600 on-net)
# never re-prices invoiced periods: rating again re-rates BX's whole bundle
# timeline, yet no period of October to December has anything new to charge.
cp -r tests/cli/late-vn "$T/v2"
sed -i 's/,900$/,1000/; s/,850$/,950/; s/,500$/,600/' "$T/v2/tiers.csv"
tally-tariff load "$T/v2" >/dev/null
run 0 "a new tariff version loads and rates" tally-rate
check "... and re-prices no invoiced call" "BX|2500 MM|4500 TB|13250 TM|5400 TT|14950" \
	"$(rated 2026-10)"

# January: a store with no January CDR still invoices fees, bundles, minimums
run 0 "January closes with no January CDR" tally-invoice close --period 2027-01
check "... QF's monthly fee, BX's and QB's windows, MM's minimum" \
	"BX|50000|Bundle bx #4|MM|20000|Monthly minimum spend 20000: true-up|QB|50000|Bundle bx #2|QF|299000|Hotline subscription" \
	"$(sqlite3 "$TALLY_DB" "SELECT i.account, i.total / 1000000, substr(l.description, 1,
		instr(l.description || ',', ',') - 1) FROM invoice i JOIN invoice_line l ON
		l.invoice_id = i.id WHERE i.status = 'draft' ORDER BY i.account" | paste -sd'|')"

# two drafts that both charge October's re-rating: the second is refused
fresh_db
tally-tariff load tests/cli/late-vn >/dev/null
ingest "$T/oct.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 --account TT >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account TT >/dev/null 2>&1
ingest "$T/late1.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 --account TT >/dev/null 2>&1
tally-invoice close --period 2026-12 --account TT >/dev/null 2>&1
run 0 "November's draft with October's late call issues" \
	tally-invoice issue --period 2026-11 --account TT
run 1 "December's draft, closed before it and charging October too, is refused" \
	tally-invoice issue --period 2026-12 --account TT
run 0 "... closed again" tally-invoice close --period 2026-12 --account TT
check "... it has nothing of October left to charge" 0 \
	"$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM invoice i JOIN invoice_line l ON
		l.invoice_id = i.id WHERE i.status = 'draft' AND l.kind = 'prior'")"
check "October is charged once: 10700 + 2550" "TT|13250" "$(charged 2026-10)"

# a void gives a re-rated period back: the next invoice charges it again
run 0 "void November's invoice of TT" tally-invoice void "$(tally-invoice list --account TT |
	awk '$4 == "2026-11" || $3 == "2026-11" { print $1 }' | head -1)" --reason test --date 2026-12-10
tally-invoice close --period 2026-12 --account TT >/dev/null 2>&1
check "... and December's draft carries October's late call again (3 min at 850)" "2550" \
	"$(sqlite3 "$TALLY_DB" "SELECT sum(l.exact) / 1000000 FROM invoice i JOIN invoice_line l ON
		l.invoice_id = i.id WHERE i.status = 'draft' AND l.kind = 'prior'")"

# A store written by schema 6 (tests/cli/fixtures/README): October issued, the
# late calls rated the old way (the invoiced calls frozen, TB's late call at
# 900).  Migrated in place, its November invoices are the hand-worked ones.
fresh_db
cp tests/cli/fixtures/schema6-late.db "$TALLY_DB"
run 1 "a schema 6 store is not upgraded by a command that only reads" tally-invoice list
contains "... which says what upgrades it" "$T/err" \
	"store schema version 6 is older than this program's (7) and this command only reads"
check "... and leaves it at schema 6" 6 "$(sqlite3 "$TALLY_DB" "PRAGMA user_version")"
cat "$T/oct.csv" "$T/late1.csv" >"$T/again.csv"
run 0 "a command that writes migrates it: its Master.csv read again" tally-ingest \
	--source lvn --format asterisk --tz Asia/Ho_Chi_Minh --numbering tariffs/numbering/vn.csv \
	"$T/again.csv"
contains "... stores no leg twice, though the keys have a new form" "$T/out" \
	"read 14, accepted 0, rejected 0, duplicates 14"
check "... to schema 7" 7 "$(sqlite3 "$TALLY_DB" "PRAGMA user_version")"
check "... with what its October invoices charged, by group" \
	"BX|2026-10|bundle|bx #1|0|600|0 BX|2026-10|tier|0-|500|120|1000 MM|2026-10|tier|0-10|900|120|1800 TB|2026-10|tier|0-10|900|600|9000 TB|2026-10|tier|10-|850|120|1700 TM|2026-10|test|test|0|300|0 TM|2026-10|tier|0-10|900|180|2700 TT|2026-10|tier|0-10|900|600|9000 TT|2026-10|tier|10-|850|120|1700" \
	"$(sqlite3 "$TALLY_DB" "SELECT i.account, u.period, u.kind, u.label, u.price / 1000000,
		u.seconds, u.exact / 1000000 FROM invoice_usage u JOIN invoice i ON i.id = u.invoice_id
		ORDER BY 1, 3, 4" | paste -sd' ')"
check "... and the bundle window it charged by its place in the timeline" "window:BX:#1:bx" \
	"$(sqlite3 "$TALLY_DB" "SELECT ref FROM invoice_line WHERE kind = 'bundle'")"
ingest "$T/nov.csv"
run 0 "... the next rating rates October again whole" tally-rate
tally-invoice close --period 2026-11 >/dev/null 2>&1
tally-invoice issue --period 2026-11 >/dev/null 2>&1
for x in $(tally-invoice list --period 2026-11 | awk '$1 != "draft" { print $1 }' | sort); do
	doc "$x"; done >"$T/docs"
sed -n '/^lvn-000006/,/^lvn-000011/p' tests/cli/late.expect | sed '$d' >"$T/want"
if diff -u "$T/want" "$T/docs" >"$T/diff"; then
	ok "... and its November invoices are as worked out by hand (late.expect)"
else
	not_ok "... and its November invoices are as worked out by hand" "$(head -40 "$T/diff")"
fi

# An annual minimum already trued up: AN's contract year 2025-11-01 to
# 2026-10-31 (20000 VND) is trued up on October's invoice: 20000 - 1800 =
# 18200.  A late October call of 3 minutes (2700) arrives: the year's spend
# is 4500 now, its true-up 15500, so November's invoice carries the call
# (+2700) and the correction (-2700): the year still costs 20000.  Taxes as
# MM's October (1818 on 20000: 164 / 1654); on November's 0, none.
fresh_db
cp -r tests/cli/late-vn "$T/an"
echo "AN,p,Asia/Ho_Chi_Minh,2025-01-01,Annual minimum" >>"$T/an/accounts.csv"
echo "AN,annual,20000,900,2025-11-01" >>"$T/an/minimums.csv"
tally-tariff load "$T/an" >/dev/null
ast_cdr AN $OFF "2026-10-05 10:00:00" 120 an-1 >"$T/an1.csv"
ast_cdr AN $OFF "2026-10-10 10:00:00" 180 an-late >"$T/an2.csv"
ingest "$T/an1.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 --account AN >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account AN >/dev/null 2>&1
ingest "$T/an2.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 --account AN >/dev/null 2>&1
tally-invoice issue --period 2026-11 --account AN >/dev/null 2>&1
check "a late call in a trued-up contract year corrects the annual true-up" \
"lvn-000001 AN 2026-10 subtotal=18182 tax=1818 total=20000 previous=0 payments=0 due=20000
  minimum qty=1 unit=18200 amount=18200 rate=10 tax=1654 net=16546
  usage qty=2.00 unit=900 amount=1800 rate=10 tax=164 net=1636
lvn-000002 AN 2026-11 subtotal=0 tax=0 total=0 previous=-20000 payments=0 due=20000
  minimum qty=1 unit=-2700 amount=-2700 rate=10 tax=0 net=-2700
  prior qty=3.00 unit=900 amount=2700 rate=10 tax=0 net=2700" \
	"$(doc lvn-000001; doc lvn-000002)"
tally-export --invoice lvn-000002 --format json | jq -r '.lines[].description' >"$T/desc"
contains "... the correction names the contract year and the true-up now" "$T/desc" \
	"Annual minimum spend 20000, contract year 2025-11-01 to 2026-10-31, re-rated: true-up now 15500"
contains "... and the late call its period" "$T/desc" \
	"prior period 2026-10, re-rated with 1 call not invoiced before: offnet, tier 0-10"

# A late call after a new tariff version: rated at the prices its period
# was invoiced at.  TB's October (6 + 6 minutes: 10 at 900, 2 at 850) issued
# under the package; a version with dearer off-net tiers (1000 / 950) is
# loaded; a 1-minute call of 10-10 arrives.  October rated whole with the
# invoiced version: 13 minutes, 10 at 900 and 3 at 850 = 11550; invoiced
# 10700; November charges 1.00 min at 850 = 850 (at the new prices the
# difference would have been 12 minutes re-priced: 2150).
fresh_db
tally-tariff load tests/cli/late-vn >/dev/null
{ ast_cdr TB $OFF "2026-10-05 10:00:00" 360 tb-1; ast_cdr TB $OFF "2026-10-20 10:00:00" 360 tb-2; } >"$T/tb.csv"
ast_cdr TB $OFF "2026-10-10 10:00:00" 60 tb-late >"$T/tblate.csv"
ingest "$T/tb.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 --account TB >/dev/null 2>&1
tally-invoice issue --period 2026-10 --account TB >/dev/null 2>&1
tally-tariff load "$T/v2" >/dev/null
ingest "$T/tblate.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 --account TB >/dev/null 2>&1
check "a late call after a new version is charged at the invoiced version's prices" \
	"prior|1.00|850|850" \
	"$(sqlite3 "$TALLY_DB" "SELECT l.kind, l.quantity, l.unit_price / 1000000, l.exact / 1000000
		FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id WHERE i.status = 'draft'")"
tally-rate >/dev/null 2>&1
run 0 "... and is not stale: rating again changes nothing, the draft issues" \
	tally-invoice issue --period 2026-11 --account TB

# Two accounts under the same monthly minimum: MM and MN each spent 1800 in
# October and were trued up 18200 each.  MM's late call (2700) corrects
# MM's true-up by -2700 only, never MN's too (-20900).
fresh_db
cp -r tests/cli/late-vn "$T/mn"
echo "MN,p,Asia/Ho_Chi_Minh,2025-01-01,Second minimum" >>"$T/mn/accounts.csv"
echo "MN,monthly,20000,900,2026-10-01" >>"$T/mn/minimums.csv"
tally-tariff load "$T/mn" >/dev/null
{ ast_cdr MM $OFF "2026-10-05 10:00:00" 120 mm-1; ast_cdr MN $OFF "2026-10-05 10:00:00" 120 mn-1; } >"$T/mn.csv"
ingest "$T/mn.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-10 >/dev/null 2>&1
tally-invoice issue --period 2026-10 >/dev/null 2>&1
ast_cdr MM $OFF "2026-10-10 10:00:00" 180 mm-late >"$T/mmlate.csv"
ingest "$T/mmlate.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 --account MM >/dev/null 2>&1
check "one account's late call corrects its own true-up only" \
	"minimum|-2700|minimum|20000|prior|2700" \
	"$(sqlite3 "$TALLY_DB" "SELECT l.kind, l.exact / 1000000 FROM invoice i JOIN invoice_line l
		ON l.invoice_id = i.id WHERE i.status = 'draft' ORDER BY l.kind, l.exact" | paste -sd'|')"

# Invoicing (tally-invoice(1)): fees in graduated steps, proration by days,
# add-ons on their activation day and anniversary, minimum spend true-ups,
# rented numbers, 10% included and 8% excluded tax with half-unit rounding,
# gapless numbers through a kill, a late CDR after issue, void and credit.
# The scenario is tests/cli/invoice.scenario; every expected figure in
# tests/cli/invoice.expect was worked out by hand from the man pages
# (tests/cli/invoice.expect.notes), not taken from tally's output.
. tests/cli/lib.sh

ON=0901234567
OFF=0281234567
CN=+862112345678
{
	ast_cdr L1   $ON  "2026-11-05 10:00:00" 120 l1-1
	ast_cdr L1   $OFF "2026-11-06 10:00:00" 61 l1-2
	ast_cdr HALF $ON  "2026-11-07 10:00:00" 10 half-1
	ast_cdr BN   $ON  "2026-11-12 10:00:00" 1800 bn-1
} >"$T/vn.csv"
ast_cdr L1 $OFF "2026-11-28 10:00:00" 30 l1-late >"$T/late.csv"
{
	ast_cdr C1 $CN "2026-11-10 10:00:00" 720 c1-1
	ast_cdr C2 $CN "2026-11-12 10:00:00" 6000 c2-1
	ast_cdr C3 $CN "2026-11-13 10:00:00" 5025 c3-1
} >"$T/cn.csv"
vn() { tally-ingest --source vn --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$@" >/dev/null 2>&1; }
cn() { tally-ingest --source cn --format asterisk --tz Asia/Shanghai \
	--numbering tariffs/numbering/cn.csv "$@" >/dev/null 2>&1; }

# One document in the form of invoice.expect, from tally-export's JSON.
doc() {
	tally-export --invoice "$1" --format json | jq -r '
	"\(.number) \(.account) \(.period) subtotal=\(.subtotal) tax=\(.tax) total=\(.total) previous=\(.previous_balance) payments=\(.payments) due=\(.amount_due)",
	([.lines[] | "  \(.kind) qty=\(.quantity) unit=\(.unit_price) amount=\(.amount) rate=\(.tax_rate) tax=\(.tax) net=\(.net)"] | sort | .[])'
}
docs() { for x in $(tally-invoice list | awk '$1 != "draft" { print $1 }' | sort); do doc "$x"; done; }

fresh_db
run 0 "the VN invoice package validates" tally-tariff validate tests/cli/invoice-vn
run 0 "the CN invoice package validates" tally-tariff validate tests/cli/invoice-cn
tally-tariff load tests/cli/invoice-vn >/dev/null
tally-tariff load tests/cli/invoice-cn >/dev/null
vn "$T/vn.csv"
cn "$T/cn.csv"
run 0 "the calls rate" tally-rate
run 0 "a deposit is recorded" tally-account deposit C1 200 --date 2026-10-20
run 0 "a rent payment is recorded for its number" \
	tally-account pay C4 108 --date 2026-07-28 --for +864001234567
tally-account pay C4 108 --date 2026-09-15 --for +864001234567 >/dev/null
run 1 "a payment for a number the account does not rent is refused" \
	tally-account pay C1 10 --for +864009999999
contains "... naming the number" "$T/err" 'rents no number "+864009999999"'
run 1 "a payment to an unknown account is refused" tally-account pay NOPE 10
run 2 "a payment in fractions of a dong is refused" tally-account pay L1 0.5x

# 2. C4's rental, month by month
for p in 2026-07 2026-08 2026-09 2026-10; do
	tally-invoice close --period $p --account C4 >/dev/null 2>&1
	tally-invoice issue --period $p --account C4 >/dev/null 2>&1
done
check "four rental months issued for C4" "icn-000001 icn-000002 icn-000003 icn-000004" \
	"$(tally-invoice list --account C4 | awk '{ printf "%s%s", s, $1; s = " " }')"

# 3-4. November: drafts, a kill between numbering and commit, then the issue
run 0 "November closes" tally-invoice close --period 2026-11
contains "close counts the drafts" "$T/out" "closed 2026-11: 12 drafts with 7 calls, 0 already issued"
state() { sqlite3 "$TALLY_DB" "SELECT count(*), sum(last) FROM sequence; SELECT count(*) FROM ledger;
	SELECT count(*) FROM invoice WHERE status = 'draft'" | paste -sd'|'; }
before=$(state)
TALLY_FAULT=issue-before-commit tally-invoice issue --period 2026-11 >/dev/null 2>&1
check "issue killed between numbering and commit dies by SIGKILL" 137 "$?"
check "the kill leaves no number taken and no invoice issued (12 drafts still drafts)" \
	"1|4|7|12" "$before"
check "... exactly as before the issue" "$before" "$(state)"
run 0 "the issue after the kill" tally-invoice issue --period 2026-11
contains "... numbers every draft, per issuer, with no gap" "$T/out" "issued 12 invoices: icn-000005 to ivn-000008"
check "numbers are gapless and unique per issuer" "icn 8 8 8|ivn 8 8 8" \
	"$(sqlite3 "$TALLY_DB" "SELECT issuer, count(*), count(DISTINCT number), max(CAST(substr(number, -6) AS INTEGER)) FROM invoice WHERE kind = 'invoice' AND number IS NOT NULL GROUP BY issuer" | tr '|' ' ' | paste -sd'|')"

# 5. the late call: rated, on no issued invoice, and November stays as issued
vn "$T/late.csv"
tally-rate >/dev/null 2>&1
frozen=$(sqlite3 "$TALLY_DB" "SELECT group_concat(amount) FROM (SELECT r.amount FROM rating r JOIN cdr c ON c.id = r.cdr_id WHERE c.account = 'L1' ORDER BY c.start_ts)")
check "the late call is rated (900 dong) and the issued ones keep their charges" \
	"1000000000,1800000000,900000000" "$frozen"
run 0 "closing an issued period again" tally-invoice close --period 2026-11
contains "... changes nothing" "$T/out" "closed 2026-11: 0 drafts with 0 calls, 12 already issued"

# 6. December for L1 (the late call as prior-period usage), H6 and C1
for a in L1 H6 C1; do tally-invoice close --period 2026-12 --account $a >/dev/null 2>&1; done
run 0 "December issues" tally-invoice issue --period 2026-12
contains "... three invoices" "$T/out" "issued 3 invoices: icn-000009 to ivn-000010"

# a stale draft is refused: close, a payment, then issue
tally-invoice close --period 2027-01 --account L1 >/dev/null 2>&1
tally-account pay L1 100000 --date 2026-12-20 >/dev/null
run 1 "a draft closed before a ledger change is not issued" tally-invoice issue --period 2027-01
contains "... and says to close again" "$T/err" "close the period again; nothing issued"
sqlite3 "$TALLY_DB" "DELETE FROM ledger WHERE account = 'L1' AND kind = 'payment'"
tally-invoice close --period 2027-01 --account L1 >/dev/null 2>&1
sqlite3 "$TALLY_DB" "DELETE FROM invoice_line WHERE invoice_id IN (SELECT id FROM invoice WHERE status = 'draft'); DELETE FROM invoice_tax WHERE invoice_id IN (SELECT id FROM invoice WHERE status = 'draft'); DELETE FROM invoice WHERE status = 'draft'"

# 7. void Q5's November invoice, close November again, issue the replacement
run 0 "void an issued invoice" tally-invoice void ivn-000006 --reason "wrong hotline count" --date 2026-12-10
contains "... makes a credit note" "$T/out" "credit note ivn-CN-000001 for ivn-000006 (void)"
run 1 "voiding it twice is refused" tally-invoice void ivn-000006 --reason again --date 2026-12-10
contains "... it is void" "$T/err" "invoice ivn-000006 is void, not issued"
run 0 "November closes again after the void" tally-invoice close --period 2026-11
contains "... with one new draft, for Q5" "$T/out" "closed 2026-11: 1 drafts with 0 calls, 11 already issued"
tally-invoice issue --period 2026-11 >/dev/null 2>&1

docs >"$T/docs"
if diff -u tests/cli/invoice.expect "$T/docs" >"$T/diff"; then
	ok "every invoice and credit note is as worked out by hand (tests/cli/invoice.expect)"
else
	not_ok "every invoice and credit note is as worked out by hand" "$(head -60 "$T/diff")"
fi

# lines, tax and totals add up as printed in every document
sums=$(for x in $(tally-invoice list | awk '$1 != "draft" { print $1 }'); do
	tally-export --invoice "$x" --format json | jq -r '
	def m: gsub("\\."; "") | tonumber;
	[([.lines[].net | m] | add) == (.subtotal | m), ([.lines[].tax | m] | add) == (.tax | m),
	 ([.taxes[].amount | m] | add) == (.tax | m), (.subtotal | m) + (.tax | m) == (.total | m)]
	| all'; done | sort -u)
check "in every document the lines add up to the subtotal and tax, and subtotal + tax = total" true "$sums"

# a partial credit, and one larger than what is left
run 0 "a partial credit note" tally-invoice credit icn-000007 --amount 2.50 --reason "call dropped" --date 2026-12-05
check "... taxed at the invoice's 8%" "-2.50 -0.20 -2.70" \
	"$(tally-export --invoice icn-CN-000001 --format json | jq -r '"\(.subtotal) \(.tax) \(.total)"')"
run 1 "a credit beyond what the invoice has left is refused" \
	tally-invoice credit icn-000007 --amount 10.40 --reason more --date 2026-12-05
contains "... saying how much is left" "$T/err" "a credit of 11.23 is more than the 10.87 invoice icn-000007 has left"

# the ledger and balances
check "C1's balance: deposit 200, November 129.60 and December 345.60" "-275.20" \
	"$(tally-account list --reseller icn | awk '$1 == "C1" { print $NF }')"
run 0 "export as CSV" tally-export --invoice ivn-000002 --format csv
contains "... has the 6-hotline total" "$T/out" "field,total,524000"
contains "... and its VAT backed out" "$T/out" "tax,10,included,476364,47636"
run 1 "export of an unknown number" tally-export --invoice nope --format json

# the minimum adjustment rule (tally-tariff(5), minimums.csv)
mkpkg() { rm -rf "$T/pkg"; cp -r tests/cli/invoice-cn "$T/pkg"; printf '%s\n' "$@" >>"$T/pkg/minimums.csv"; }
mkpkg "C3,monthly,100,0.30,2026-01-01" "C3,monthly,50,0.15,2026-06-01"
run 0 "a minimum lowered with its rate in proportion (100 at 0.30 -> 50 at 0.15)" tally-tariff validate "$T/pkg"
mkpkg "C3,monthly,100,0.30,2026-01-01" "C3,monthly,150,0.30,2026-06-01"
run 0 "a minimum raised at any time" tally-tariff validate "$T/pkg"
mkpkg "C3,monthly,100,0.30,2026-01-01" "C3,monthly,40,0.15,2026-06-01"
run 1 "a minimum lowered more than in proportion is refused" tally-tariff validate "$T/pkg"
contains "... naming the least allowed" "$T/err" 'minimums.csv:5:amount: account "C3": with the rate lowered from 0.30 to 0.15 the monthly minimum may fall from 100.00 to no less than 50.00'
mkpkg "C3,monthly,100,0.30,2026-01-01" "C3,monthly,50,0.30,2026-06-01"
run 1 "a minimum lowered without a lower rate is refused" tally-tariff validate "$T/pkg"
contains "... saying so" "$T/err" "may not fall from 100.00 to 50.00 without a lower rate"
mkpkg
sed -i '/^C2,annual/d' "$T/pkg/minimums.csv"
run 1 "a new version that drops a minimum row is not loaded" tally-tariff load "$T/pkg"
contains "... naming the row" "$T/err" 'the annual minimum of "C2" from 2025-12-01 (1200.00 at 0.10) of the current version is missing'

# tally-report balances: C1 -275.20 (see above), C4 -108.00, the VND accounts owe their invoices
run 0 "the balances report" tally-report balances --below 0 --reseller icn --format csv
check "... lists the icn accounts below 0 with their balances" \
	"account,reseller,currency,balance|C1,icn,CNY,-275.20|C2,icn,CNY,-1296.00|C3,icn,CNY,-10.87|C4,icn,CNY,-108.00" \
	"$(paste -sd'|' "$T/out")"
run 0 "a threshold below every balance lists none" tally-report balances --below -5000 --reseller icn
check "... but the header" 1 "$(wc -l <"$T/out")"

# a later period closed before an earlier one is issued: the call is on
# both drafts, and the second issue is refused rather than bill it twice
ast_cdr C3 $CN "2027-01-05 10:00:00" 60 c3-jan >"$T/jan.csv"
cn "$T/jan.csv"
tally-rate >/dev/null 2>&1
tally-invoice close --period 2027-01 --account C3 >/dev/null 2>&1
tally-invoice close --period 2027-02 --account C3 >/dev/null 2>&1
run 0 "January issues" tally-invoice issue --period 2027-01 --account C3
run 1 "February's draft, holding January's call too, is refused" \
	tally-invoice issue --period 2027-02 --account C3
contains "... saying to close again" "$T/err" "charges calls or fees that another invoice issued since"
tally-invoice close --period 2027-02 --account C3 >/dev/null 2>&1
run 0 "closed again, February issues" tally-invoice issue --period 2027-02 --account C3
check "each of C3's two calls is billed once" "2|2" "$(sqlite3 "$TALLY_DB" "SELECT count(*),
	count(DISTINCT ic.cdr_id) FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id
	JOIN cdr c ON c.id = ic.cdr_id WHERE i.status = 'issued' AND c.account = 'C3'")"
run 2 "a credit in fractions of a fen is refused" \
	tally-invoice credit icn-000007 --amount 0.004 --reason x --date 2026-12-05

# February closed before January is issued: February's previous balance must
# hold January's invoice (taken at issue, not at close).  C1 before January:
# 200 - 129.60 - 345.60 = -275.20; January: storage 30 + minimum 50 = 80,
# with 8%: 86.40; so February's previous balance is -361.60.
tally-invoice close --period 2027-01 --account C1 >/dev/null 2>&1
tally-invoice close --period 2027-02 --account C1 >/dev/null 2>&1
tally-invoice issue --period 2027-01 --account C1 >/dev/null 2>&1
run 0 "the later period issued after the earlier one" tally-invoice issue --period 2027-02 --account C1
x=$(tally-invoice list --account C1 --period 2027-02 | awk '{ print $1 }')
check "... counts the earlier invoice in its previous balance" \
	"previous=-361.60 payments=0.00 total=86.40 due=448.00" \
	"$(tally-export --invoice "$x" --format json |
	jq -r '"previous=\(.previous_balance) payments=\(.payments) total=\(.total) due=\(.amount_due)"')"

# ---- Exports (tally-export(1)): the documents above, hand-worked in
# invoice.expect, as PDF and XLSX.  VND prints 1.234.567 ₫, CNY ¥1,234.56.
pdf() { pdftotext -q -layout "$1" -; }
run 0 "export every document of 2026-11 as PDF" \
	tally-export --period 2026-11 --format pdf --out "$T/pdf"
pdf "$T/pdf/ivn-000002.pdf" >"$T/h6.txt"
contains "H6's PDF has its number" "$T/h6.txt" "ivn-000002"
contains "... the Vietnamese customer name" "$T/h6.txt" "Công ty Hải Sáu"
contains "... the first hotline step" "$T/h6.txt" "299.000 ₫"
contains "... the subtotal before tax" "$T/h6.txt" "476.364 ₫"
contains "... the 10% tax" "$T/h6.txt" "47.636 ₫"
contains "... the total" "$T/h6.txt" "524.000 ₫"
pdf "$T/pdf/icn-000006.pdf" >"$T/c2.txt"
contains "C2's PDF has the Chinese customer name" "$T/c2.txt" "北京办公室"
contains "... Chinese labels" "$T/c2.txt" "价税合计"
contains "... the minimum true-up" "$T/c2.txt" "¥1,190.00"
contains "... the 8% tax" "$T/c2.txt" "¥96.00"
contains "... the total" "$T/c2.txt" "¥1,296.00"
pdf "$T/pdf/icn-000007.pdf" >"$T/c3.txt"
contains "C3's call is itemized in Shanghai time" "$T/c3.txt" "2026-11-13 10:00:00"
contains "... lasting 83:45 (5025 s)" "$T/c3.txt" "83:45"
contains "... on page 2 of 2" "$T/c3.txt" "2/2"
tally-export --invoice icn-000003 --format pdf --out "$T/pdf-sep" >/dev/null 2>&1
pdf "$T/pdf-sep/icn-000003.pdf" >"$T/c4.txt"
check "C4's PDF shows the 108.00 it owed before as owed (the ledger's -108.00)" "1" \
	"$(grep '上期欠款' "$T/c4.txt" | grep -c '¥108.00')"
pdftotext -q -layout -f 2 -l 2 "$T/pdf/ivn-000004.pdf" - >"$T/l1calls.txt"
contains "L1's calls, priced by tiers, show their class for a destination" "$T/l1calls.txt" "onnet"
pdf "$T/pdf/ivn-000004.pdf" >"$T/l1.txt"
contains "L1's 61-second call is listed" "$T/l1.txt" "1:01"
contains "... and its 120-second one" "$T/l1.txt" "2026-11-05 10:00:00"
run 0 "one invoice alone" tally-export --invoice icn-000006 --format pdf --out "$T/one"
check "... gives the same bytes as in the period's batch" "same" \
	"$(cmp -s "$T/one/icn-000006.pdf" "$T/pdf/icn-000006.pdf" && echo same)"
run 0 "with one worker" tally-export --period 2026-11 --format pdf --out "$T/pdf1" --jobs 1
run 0 "with two" tally-export --period 2026-11 --format pdf --out "$T/pdf2" --jobs 2
check "... the same files" "" "$(diff -r "$T/pdf1" "$T/pdf2")"
check "... as the default run's" "" "$(diff -r "$T/pdf" "$T/pdf1")"
run 2 "a period that is not YYYY-MM" tally-export --period 2026-13 --format pdf --out "$T/x"
run 2 "PDF needs --out" tally-export --invoice icn-000006 --format pdf
run 2 "--invoice and --period together" tally-export --invoice icn-000006 --period 2026-11 \
	--format json --out "$T/x"

run 0 "export H6 and L1 as XLSX" tally-export --period 2026-11 --format xlsx --out "$T/xlsx"
unzip -p "$T/xlsx/ivn-000002.xlsx" xl/worksheets/sheet1.xml >"$T/h6.xml"
check "H6's sheet: the line amounts are numbers, in step order" "299000 147000 78000" \
	"$(grep -o '<c r="E[0-9]*" s="[0-9]*"><v>[^<]*' "$T/h6.xml" | sed 's/.*<v>//' | xargs)"
check "... subtotal, tax, total and due are formulas holding the invoice's figures" \
	"476364 47636 524000 524000" \
	"$(grep -o '<f>[^<]*</f><v>[^<]*' "$T/h6.xml" | sed 's/.*<v>//' | xargs)"
check "... the subtotal sums the net column" "SUM(I17:I19)" \
	"$(grep -o '<f>SUM(I[^<]*' "$T/h6.xml" | sed 's/<f>//')"
check "... whose cells add up to it when recomputed" "476364" \
	"$(grep -oE '<c r="I1[7-9]" s="[0-9]+"><v>[^<]*' "$T/h6.xml" | sed 's/.*<v>//' |
	awk '{ s += $1 } END { print s }')"
contains "... the header row is frozen" "$T/h6.xml" 'state="frozen"'
contains "... and filtered" "$T/h6.xml" '<autoFilter ref="A16:I19"/>'
unzip -p "$T/xlsx/ivn-000004.xlsx" xl/worksheets/sheet2.xml >"$T/l1.xml"
day=$(( ($(date -u -d 2026-11-05 +%s) - $(date -u -d 1899-12-30 +%s)) / 86400 ))
check "L1's calls sheet: the first call's time is a date (serial $day, 10:00)" "$day.41666" \
	"$(grep -o '<c r="A2" s="[0-9]*"><v>[^<]*' "$T/l1.xml" | sed 's/.*<v>//' | cut -c1-11)"
check "... seconds are numbers" "120 61" \
	"$(grep -o '<c r="F[23]" s="[0-9]*"><v>[^<]*' "$T/l1.xml" | sed 's/.*<v>//' | xargs)"
unzip -p "$T/xlsx/ivn-000002.xlsx" docProps/core.xml >"$T/core.xml"
contains "... the workbook is dated by the invoice, not the clock" "$T/core.xml" \
	"2026-11-30T00:00:00Z"

# Revenue of 2026-11 for the Vietnamese package: ivn-000001..8 and 11, the
# void ivn-000006 and its credit note (net 0): net 7653560, tax 765356.
run 0 "revenue report" tally-report revenue --period 2026-11 --reseller ivn
check "... the reseller's net, tax and total" "7653560 765356 8418916" \
	"$(awk '$3 == "(all)" { print $4, $5, $6 }' "$T/out")"
run 0 "revenue as XLSX" tally-report revenue --period 2026-11 --reseller ivn --format xlsx \
	--out "$T/rev.xlsx"
unzip -p "$T/rev.xlsx" xl/worksheets/sheet1.xml >"$T/rev.xml"
check "... the net column holds numbers, one per CSV row" \
	"$(($(tally-report revenue --period 2026-11 --reseller ivn --format csv | wc -l) - 1))" \
	"$(grep -oE '<c r="H([2-9]|[1-9][0-9]+)" s="[0-9]+"><v>' "$T/rev.xml" | wc -l)"
run 2 "xlsx needs --out" tally-report revenue --period 2026-11 --format xlsx

# An invoice's itemized calls are what was rated when it was closed: a
# rating rewritten later (as after a void and a new tariff) leaves them.
tally-export --invoice icn-000007 --format json | jq -c .calls >"$T/calls.before"
sqlite3 "$TALLY_DB" "UPDATE rating SET amount = amount + 7000000, billed_seconds = 1
	WHERE cdr_id IN (SELECT ic.cdr_id FROM invoice_cdr ic JOIN invoice i ON i.id =
	ic.invoice_id WHERE i.number = 'icn-000007')"
check "a re-rating does not change an issued invoice's call list" "$(cat "$T/calls.before")" \
	"$(tally-export --invoice icn-000007 --format json | jq -c .calls)"

# A tax group of nothing but zero lines (a number held at no charge, its fee
# at another rate) does not make an invoice mixed: a partial credit goes.
# icn-000007 (C3, 13.57 with 8%) gets such a group at 6%.
sqlite3 "$TALLY_DB" "INSERT INTO invoice_tax (invoice_id, seq, rate, included, exact, base, tax)
	SELECT id, 99, 600, 0, 0, 0, 0 FROM invoice WHERE number = 'icn-000007'"
run 0 "a partial credit beside an empty tax group" \
	tally-invoice credit icn-000007 --amount 1.00 --reason "goodwill" --date 2026-12-06
x=$(awk '{ print $3 }' "$T/out")
check "... is 1.00 + 8% = 1.08 off" "-1.08" \
	"$(tally-export --invoice "$x" --format json | jq -r .total)"

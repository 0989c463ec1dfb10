# tally-report cdrs and ratings: the stored CDRs and ratings read back, against
# the figures worked out by hand for the bundled samples (cdrs.expect: every
# field of every CDR; rating.expect and its .notes: every rating), the store's
# own counts (sqlite3), the reconcile counts and the usage report.
. tests/cli/lib.sh

# The scenario of t_rating.sh: every good sample, both example tariffs.
opt() { [ "$2" = - ] || printf '%s\n%s\n' "$1" "$2"; }
awk '$6 !~ /^samples\/bad\// && $1 !~ /^#/' tests/cli/samples.expect |
while read -r fmt src tz num map file r a j d; do
	# shellcheck disable=SC2046
	IFS='
' tally-ingest --source "$src" --format "$fmt" $(opt --tz "$tz") $(opt --numbering "$num") \
	    $(opt --map "$map") "$file" >/dev/null 2>&1
done
tally-tariff load tariffs/vn-hotline >/dev/null 2>&1
tally-tariff load tariffs/cn-400 >/dev/null 2>&1
tally-rate >/dev/null 2>&1

q() { sqlite3 "$TALLY_DB" "$1"; }
# csvcol FILE: the CSV as TAB-separated lines (Python's csv module, not tally's)
csvtab() {
	/usr/bin/python3 -c 'import csv, sys
for r in csv.reader(open(sys.argv[1], newline="")): print("\t".join(r))' "$1"
}

# --- cdrs ----------------------------------------------------------------
run 0 "cdrs csv" tally-report cdrs --format csv
cp "$T/out" "$T/cdrs.csv"
check "cdrs csv header: every column of the cdr table, times also as ISO-8601" \
    "id,batch_id,line,source,record_key,account,caller_raw,caller,callee_raw,callee,start,start_ts,answer,answer_ts,end,end_ts,duration,billsec,disposition,type" \
    "$(head -n 1 "$T/cdrs.csv")"
check "a row per stored CDR" "$(q 'SELECT count(*) FROM cdr')" "$(($(csvtab "$T/cdrs.csv" | wc -l) - 1))"
check "49 CDRs, as cdrs.expect has" 49 "$(($(csvtab "$T/cdrs.csv" | wc -l) - 1))"
check "in CDR id order" "$(q 'SELECT id FROM cdr ORDER BY id' | tr '\n' ' ')" \
    "$(csvtab "$T/cdrs.csv" | awk -F '\t' 'NR > 1 { printf "%s ", $1 }')"
# cdrs.expect: source, record_key, account, caller_raw, caller, callee_raw,
# callee, start_ts, answer_ts, end_ts, duration, billsec, disposition, type,
# line, by source, batch and line
csvtab "$T/cdrs.csv" | awk -F '\t' 'NR > 1 { print $4 "\t" $2 "\t" $3 "\t" $5 "\t" $6 "\t" $7 "\t" $8 "\t" $9 "\t" $10 "\t" $12 "\t" $14 "\t" $16 "\t" $17 "\t" $18 "\t" $19 "\t" $20 "\t" $3 }' |
    sort -t '	' -k1,1 -k2,2n -k3,3n | cut -f 1,4- >"$T/cdrs.got"
if cmp -s tests/cli/cdrs.expect "$T/cdrs.got"; then
	ok "every CDR, field by field, as worked out by hand (cdrs.expect)"
else
	not_ok "every CDR, field by field, as worked out by hand (cdrs.expect)" \
	    "$(diff tests/cli/cdrs.expect "$T/cdrs.got" | head -n 20)"
fi
check "start, answer and end are the epoch seconds in UTC ISO-8601" "" \
    "$(/usr/bin/python3 - "$T/cdrs.csv" 2>&1 <<'PY'
import csv, sys, datetime
for r in csv.DictReader(open(sys.argv[1], newline="")):
    for k in ("start", "answer", "end"):
        ts = r[k + "_ts"]
        want = "" if ts == "" else datetime.datetime.fromtimestamp(int(ts),
            datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if r[k] != want:
            print(r["id"], k, r[k], want)
PY
)"
# export1 100232 (calls.csv line 3): NO ANSWER, started 21/11/2026 08:45:10 at
# +07:00 (calls.map), 40 s: no answer time, ends 01:45:50 UTC
check "an unanswered CDR has empty answer and answer_ts" ",,2026-11-21T01:45:50Z,1795225550" \
    "$(grep '^[0-9]*,4,3,export1,100232,' "$T/cdrs.csv" | cut -d, -f 13-16)"

# --batch N: exactly the batch's accepted CDRs (reconcile), all of that batch
tally-report reconcile --format csv | tail -n +2 | cut -d, -f 1,5 >"$T/batches"
bad=
while IFS=, read -r b accepted; do
	tally-report cdrs --batch "$b" --format csv | tail -n +2 >"$T/b"
	[ "$(wc -l <"$T/b")" -eq "$accepted" ] || bad="$bad batch $b: $(wc -l <"$T/b") rows, accepted $accepted;"
	[ -z "$(cut -d, -f 2 "$T/b" | grep -vx "$b")" ] || bad="$bad batch $b has other batches' CDRs;"
done <"$T/batches"
check "cdrs --batch N: the batch's accepted CDRs, every batch" "" "$bad"
# batch 4 (calls.csv) read 11 lines, one a duplicate: 10 CDRs, not 11
check "cdrs --batch 4: 10 CDRs (11 read, 1 duplicate)" 10 \
    "$(($(tally-report cdrs --batch 4 --format csv | wc -l) - 1))"
check "cdrs --period: the CDRs rated into it" "$(q "SELECT count(*) FROM rating WHERE period = '2026-11'")" \
    "$(($(tally-report cdrs --period 2026-11 --format csv | csvtab /dev/stdin | wc -l) - 1))"
check "cdrs --account: the CDRs it pays for" "$(q "SELECT group_concat(cdr_id, ' ') FROM (SELECT cdr_id FROM rating WHERE payer = 'ACME-VN' ORDER BY cdr_id)")" \
    "$(tally-report cdrs --account ACME-VN --format csv | awk -F, 'NR > 1 { printf "%s%s", s, $1; s = " " }')"

# --- ratings -------------------------------------------------------------
run 0 "ratings csv" tally-report ratings --format csv
cp "$T/out" "$T/ratings.csv"
check "ratings csv header" \
    "cdr_id,source,record_key,version_id,currency,payer,period,class,status,destination,prefix,seconds,billed_seconds,amount,reason,tier_pos,test_used,volume_total,bundle_sub,bundle_seq,bundle_left,piece_seq,piece_kind,piece_label,piece_seconds,piece_price,piece_amount,piece_exact" \
    "$(head -n 1 "$T/ratings.csv")"
check "a CSV row per piece, or one for a rating without pieces" \
    "$(q 'SELECT count(*) FROM rating r LEFT JOIN rating_piece p ON p.cdr_id = r.cdr_id')" \
    "$(($(csvtab "$T/ratings.csv" | wc -l) - 1))"
check "every rating" "$(q 'SELECT count(*) FROM rating')" \
    "$(csvtab "$T/ratings.csv" | awk -F '\t' 'NR > 1 { print $1 }' | sort -u | wc -l)"
check "every piece" "$(q 'SELECT count(*) FROM rating_piece')" \
    "$(csvtab "$T/ratings.csv" | awk -F '\t' 'NR > 1 && $22 != ""' | wc -l)"

# A few CDRs by name: status, class, billed seconds, amount, reason as
# rating.expect (worked out by hand) states them.
rated() {
	csvtab "$T/ratings.csv" | awk -F '\t' -v s="$1" -v k="$2" \
	    '$2 == s && $3 == k { print $9 "|" $8 "|" $13 "|" $14 "|" $5 "|" $15; exit }'
}
check "export1 100231: rated offnet, 120 s billed, 1800 VND" "rated|offnet|120|1800|VND|" "$(rated export1 100231)"
check "export1 100233: rated tollfree, 294 s, 0 (price 0)" "rated|tollfree|294|0|VND|" "$(rated export1 100233)"
check "export1 100240: rated offnet, 84 s, 1260 VND" "rated|offnet|84|1260|VND|" "$(rated export1 100240)"
check "export1 100235: an SMS, 0 s, 350 VND" "rated|sms_offnet|0|350|VND|" "$(rated export1 100235)"
check "sbc1 a84b4c76e66710@10.20.0.15: rated offnet, 66 s, 990 VND" "rated|offnet|66|990|VND|" \
    "$(rated sbc1 a84b4c76e66710@10.20.0.15)"
check "sbc1 5f1e2d3c...: free, class incoming is free" "free|incoming|0|0|VND|class incoming is free" \
    "$(rated sbc1 5f1e2d3c4b5a69788796@sbc1.example.vn)"
check "sbc1 c3d2e1f0a9b8@10.20.0.22: unrated, no class matches" "unrated||0|0|VND|no class matches" \
    "$(rated sbc1 c3d2e1f0a9b8@10.20.0.22)"
check "sh-fs 0b6f3c1e...: rated ordinary, 300 s, 0.50 CNY" "rated|ordinary|300|0.50|CNY|" \
    "$(rated sh-fs 0b6f3c1e-8a4d-4e7b-9c21-5d6e7f801a01)"
check "sh-fs 5eb28163...: rated ordinary, 60 s, 0.13 CNY" "rated|ordinary|60|0.13|CNY|" \
    "$(rated sh-fs 5eb28163-df92-43c4-a176-a2b3c4d5f606)"
check "sh-fs 6fc39274...: unrated, no account, no tariff so no currency" "unrated||0|0||no account" \
    "$(rated sh-fs 6fc39274-e0a3-44d5-b287-b3c4d5e60707)"
# Every rating against rating.expect.  Its convention for a rating without a
# tariff (no account): the amount in its source's currency, so 0.00 for sh-fs.
csvtab "$T/ratings.csv" | awk -F '\t' 'NR > 1 && !seen[$1]++ {
	amount = $14
	if ($5 == "" && $2 == "sh-fs") amount = amount ".00"
	print $2 "\t" $3 "\t" $9 "\t" $8 "\t" $13 "\t" amount "\t" ($9 == "rated" ? "" : $15) }' |
    sort >"$T/rated.got"
sort tests/cli/rating.expect >"$T/rated.want"
if cmp -s "$T/rated.want" "$T/rated.got"; then
	ok "every rating as worked out by hand (rating.expect)"
else
	not_ok "every rating as worked out by hand (rating.expect)" \
	    "$(diff "$T/rated.want" "$T/rated.got" | head -n 20)"
fi
# a piece's amount is its exact charge (sixtieths of a micro-unit) rounded
# half-up to the micro-unit; a rated CDR's pieces add up to its amount here
check "pieces: amount = exact / 60 micro-units, and price * seconds / 60 for timed pieces" "" \
    "$(/usr/bin/python3 - "$T/ratings.csv" 2>&1 <<'PY'
import csv, sys
from decimal import Decimal
for r in csv.DictReader(open(sys.argv[1], newline="")):
    if r["piece_seq"] == "":
        continue
    exact = int(r["piece_exact"])
    if Decimal(r["piece_amount"]) * 60 * 1000000 != exact:
        print(r["cdr_id"], r["piece_seq"], r["piece_amount"], exact)
    if r["piece_kind"] in ("tier", "band", "test") and \
            Decimal(r["piece_price"]) * int(r["piece_seconds"]) * 1000000 != exact:
        print(r["cdr_id"], r["piece_seq"], "price", r["piece_price"], r["piece_seconds"], exact)
PY
)"
check "export1 100231: one tier piece, 120 s at 900 VND a minute = 1800" "tier|120|900|1800" \
    "$(csvtab "$T/ratings.csv" | awk -F '\t' '$2 == "export1" && $3 == "100231" { print $23 "|" $25 "|" $26 "|" $27 }')"

run 0 "ratings --batch 6 (acc.log)" tally-report ratings --batch 6 --format csv
check "ratings --batch 6: the six sbc1 CDRs" "sbc1 sbc1 sbc1 sbc1 sbc1 sbc1" \
    "$(csvtab "$T/out" | awk -F '\t' 'NR > 1 && !seen[$1]++ { printf "%s%s", s, $2; s = " " }')"
check "ratings --account ACME-VN: its ratings only" "$(q "SELECT count(*) FROM rating WHERE payer = 'ACME-VN'")" \
    "$(tally-report ratings --account ACME-VN --format csv | csvtab /dev/stdin |
       awk -F '\t' 'NR > 1 && $6 == "ACME-VN" && !seen[$1]++' | wc -l)"

# --- JSON: parses, the same rows, amounts add up to the usage report ------
run 0 "ratings json" tally-report ratings --period 2026-11 --format json
cp "$T/out" "$T/ratings.json"
check "ratings json parses (jq)" "$(q "SELECT count(*) FROM rating WHERE period = '2026-11'")" \
    "$(jq '.ratings | length' "$T/ratings.json")"
tally-report usage --period 2026-11 --format json >"$T/usage.json"
check "the period's ratings add up to its usage, per currency" \
    "$(jq -r '[.usage[] | {c: .currency, a: .amount}] | group_by(.c)[] | "\(.[0].c) \(map(.a | tonumber * 100 | round) | add)"' "$T/usage.json")" \
    "$(jq -r '[.ratings[] | select(.currency != "") | {c: .currency, a: .amount}] | group_by(.c)[] | "\(.[0].c) \(map(.a | tonumber * 100 | round) | add)"' "$T/ratings.json")"
check "usage has both currencies (the sum above is not empty)" 2 \
    "$(jq '[.usage[].currency] | unique | length' "$T/usage.json")"

tally-report ratings --format json >"$T/all.json"
tally-report ratings >"$T/all.txt"
tally-report cdrs --format json >"$T/cdrs.json"
tally-report cdrs >"$T/cdrs.txt"
# the same ratings and pieces in the three forms, field by field for CSV
# against JSON
check "ratings: text, CSV and JSON carry the same rows" "" \
    "$(/usr/bin/python3 - "$T/ratings.csv" "$T/all.json" "$T/all.txt" 2>&1 <<'PY'
import csv, json, re, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
js = json.load(open(sys.argv[2]))["ratings"]
txt = open(sys.argv[3], encoding="utf-8").read().splitlines()
flat = []
for o in js:
    head = {k: ("" if v is None else str(v)) for k, v in o.items() if k != "pieces"}
    for p in o["pieces"] or [None]:
        d = dict(head)
        for k in ("seq", "kind", "label", "seconds", "price", "amount", "exact"):
            d["piece_" + k] = "" if p is None else str(p[k])
        flat.append(d)
if len(flat) != len(rows):
    print("json", len(flat), "csv", len(rows))
for a, b in zip(rows, flat):
    if a != b:
        print("differs:", a, b)
        break
ids = [int(m.group(1)) for l in txt if (m := re.match(r"cdr (\d+) ", l))]
if ids != [o["cdr_id"] for o in js]:
    print("text ratings", ids)
if sum(1 for l in txt if l.startswith("    piece ")) != sum(len(o["pieces"]) for o in js):
    print("text pieces differ")
PY
)"
check "cdrs: text, CSV and JSON carry the same rows" "" \
    "$(/usr/bin/python3 - "$T/cdrs.csv" "$T/cdrs.json" "$T/cdrs.txt" 2>&1 <<'PY'
import csv, json, re, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
js = [{k: ("" if v is None else str(v)) for k, v in o.items()}
      for o in json.load(open(sys.argv[2]))["cdrs"]]
if rows != js:
    print("csv and json differ", len(rows), len(js))
txt = open(sys.argv[3], encoding="utf-8").read().splitlines()
ids = [m.group(1) for l in txt if (m := re.match(r"cdr (\d+) ", l))]
if len(ids) != len(txt) or ids != [r["id"] for r in rows]:
    print("text", ids)
PY
)"

# --- xlsx, errors ----------------------------------------------------------
run 0 "ratings as xlsx" tally-report ratings --format xlsx --out "$T/r.xlsx"
check "the sheet has the CSV's rows" "$(csvtab "$T/ratings.csv" | wc -l)" \
    "$(/usr/bin/python3 -c 'import sys, zipfile
print(zipfile.ZipFile(sys.argv[1]).read("xl/worksheets/sheet1.xml").decode().count("<row "))' "$T/r.xlsx")"
run 1 "cdrs --batch of no batch" tally-report cdrs --batch 99
contains "names the batch" "$T/err" "no batch 99"
run 1 "ratings --account of no account" tally-report ratings --account NOBODY
contains "names the account" "$T/err" '"NOBODY"'
run 2 "ratings --period that is no month" tally-report ratings --period 2026-13
run 2 "cdrs takes no --reseller" tally-report cdrs --reseller vn
check "the same store, the same bytes" "$(cksum <"$T/all.txt")" "$(tally-report ratings | cksum)"

# What switches write, hostile to a report's own syntax: a record key with
# quotes that would close the text form's field, one with a byte that is
# not UTF-8, one with the literal text of such an escape.  Each form keeps
# them apart: three distinct keys in JSON, and no forged field in text.
fresh_db
{ ast_cdr ACME-VN 0912345678 '2026-11-21 08:00:00' 60 'x"" account ""FORGED'
  ast_cdr ACME-VN 0912345678 '2026-11-21 08:01:00' 60 "$(printf 'k\377bad')"
  ast_cdr ACME-VN 0912345678 '2026-11-21 08:02:00' 60 'k\xffbad'
  ast_cdr ZZ-UNKNOWN 0912345678 '2026-11-21 08:03:00' 60 zz; } >"$T/hostile.csv"
tally-ingest --source h --format asterisk "$T/hostile.csv" >/dev/null 2>&1
check "hostile keys: three CDRs stored (and one of an unknown account)" 4 "$(q 'SELECT count(DISTINCT record_key) FROM cdr')"
check "... four distinct channels in the JSON keys (bytes and their escape's text apart)" 4 \
	"$(tally-report cdrs --format json | jq '[.cdrs[].record_key | split("|")[0]] | unique | length' 2>&1)"
check "... the raw byte shown as \\xff, the literal backslash as \\x5c" \
	'SIP/1-k\xffbad SIP/1-k\x5cxffbad' \
	"$(tally-report cdrs --format json | jq -r '.cdrs[1:3][].record_key' | cut -d'|' -f1 | xargs -0 printf '%s' | tr '\n' ' ' | sed 's/ $//')"
check "... in text, a quote inside a value is \\x22, no forged field" \
	'key "SIP/1-x\x22 account \x22FORGED|' \
	"$(tally-report cdrs | head -1 | grep -o 'key "[^"]*' | cut -d'|' -f1)|"

# An account no tariff knows is the payer of its unrated calls: the audit
# reports find them by it (usage does not know it).
tally-rate >/dev/null 2>&1
run 0 "ratings --account of an account no tariff knows" tally-report ratings --account ZZ-UNKNOWN --format csv
check "... lists its unrated call" "unrated|unknown account \"ZZ-UNKNOWN\"" \
	"$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print("|".join([r[0]["status"], r[0]["reason"]]) if len(r) == 1 else len(r))' "$T/out" 2>&1)"
run 1 "... a name that is neither an account nor a payer" tally-report ratings --account NOBODY
contains "... is an error naming it" "$T/err" '"NOBODY" is no account of a loaded tariff and pays for no rated call'

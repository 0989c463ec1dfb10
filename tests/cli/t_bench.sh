# The benchmark's data and the guards on its speed: the generator writes
# what it says, tally rates like the plain SQL query it is measured against,
# and one big batch gives the same ratings and invoices as many small ones.
. tests/cli/lib.sh

# --- scripts/gen-cdrs ----------------------------------------------------
scripts/gen-cdrs -n 3000 -s 4 >"$T/a.csv"
scripts/gen-cdrs -n 3000 -s 4 >"$T/b.csv"
scripts/gen-cdrs -n 3000 -s 5 >"$T/c.csv"
check "gen-cdrs: the same seed writes the same bytes" 0 "$(cmp -s "$T/a.csv" "$T/b.csv"; echo $?)"
check "gen-cdrs: another seed writes other calls" 1 "$(cmp -s "$T/a.csv" "$T/c.csv"; echo $?)"
check "gen-cdrs: N lines" 3000 "$(wc -l <"$T/a.csv" | tr -d ' ')"

sed 's/^time_format.*/time_format = %d\/%m\/%Y %H:%M:%S/' samples/csv/calls.map >"$T/gen.map"
for f in asterisk freeswitch kamailio csv; do
	case $f in
	csv) opts="--format csv --map $T/gen.map" ;;
	*) opts="--format $f --tz Asia/Ho_Chi_Minh" ;;
	esac
	scripts/gen-cdrs -n 400 -s 2 -f $f -D 0 -B 1000 >"$T/bad.$f"
	scripts/gen-cdrs -n 400 -s 2 -f $f -D 0 -B 0 >"$T/good.$f"
	scripts/gen-cdrs -n 4000 -s 2 -f $f >"$T/mixed.$f"
	# shellcheck disable=SC2086
	tally-ingest --source bad-$f $opts "$T/bad.$f" >"$T/out" 2>/dev/null
	contains "gen-cdrs -f $f -B 1000: every line is rejected" "$T/out" \
		"read 400, accepted 0, rejected 400, duplicates 0"
	# shellcheck disable=SC2086
	tally-ingest --source good-$f $opts "$T/good.$f" >"$T/out" 2>/dev/null
	contains "gen-cdrs -f $f -D 0 -B 0: every line is a CDR" "$T/out" \
		"read 400, accepted 400, rejected 0, duplicates 0"
	# shellcheck disable=SC2086
	tally-ingest --source mixed-$f $opts "$T/mixed.$f" >"$T/out" 2>/dev/null
	# 2% duplicates and 1% bad lines: about 80 and 40 of 4000
	got=$(sed -n 's/.*rejected \([0-9]*\), duplicates \([0-9]*\)$/\1 \2/p' "$T/out")
	check "gen-cdrs -f $f: a few percent duplicates and bad lines ($got)" yes \
		"$(echo "$got" | awk '{ print ($1 >= 20 && $1 <= 70 && $2 >= 50 && $2 <= 120) ? "yes" : "no" }')"
done

# --- tally against the SQL baseline ---------------------------------------
# The baseline (bench/baseline-*.sql) rates by the same rules as the
# generated tariff: on a file without duplicates and bad lines, every
# answered call must cost the same to the dong in both.
mkdir "$T/base"
scripts/gen-tariff -n 3000 -a 200 "$T/pkg" >/dev/null
cp "$T/pkg/rates.csv" "$T/base/rates.csv"
scripts/gen-cdrs -n 6000 -s 9 -a 200 -p 3000 -D 0 -B 0 >"$T/base/cdrs.csv"
fresh_db
tally-tariff load "$T/pkg" >/dev/null
tally-ingest --source g --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$T/base/cdrs.csv" >/dev/null
tally-rate >/dev/null
(cd "$T/base" && sqlite3 base.db ".read $TALLY_TOP/bench/baseline-import.sql" \
	".read $TALLY_TOP/bench/baseline-rate.sql") >/dev/null 2>&1
sqlite3 "$T/base/base.db" "SELECT CAST(substr(uniqueid, instr(uniqueid, '.') + 1) AS INTEGER),
	prefix, billed, amount FROM rated ORDER BY 1" \
	>"$T/base.txt"
sqlite3 "$TALLY_DB" "SELECT c.line, '+' || r.prefix,
	r.billed_seconds, r.amount / 1000000 FROM rating r JOIN cdr c ON c.id = r.cdr_id
	WHERE r.status = 'rated' ORDER BY 1" >"$T/tally.txt"
check "the baseline rates the answered calls" yes \
	"$([ "$(wc -l <"$T/base.txt")" -gt 5000 ] && echo yes || echo no)"
check "tally and the SQL baseline: same prefix, seconds and amount for every call" "" \
	"$(diff "$T/base.txt" "$T/tally.txt" | head -n 5)"
# Zipf-like destinations: the prefix of rank 1 (+8410) is the busiest, with
# over 3% of the calls where 3000 equally popular prefixes would get 0.03%.
check "destinations are skewed: the rank-1 prefix takes over 3% of the calls" "+8410 yes" \
	"$(sqlite3 "$T/base/base.db" "SELECT prefix, CASE WHEN count(*) * 100 > 3 *
	  (SELECT count(*) FROM rated) THEN 'yes' ELSE 'no' END FROM rated GROUP BY prefix
	  ORDER BY count(*) DESC LIMIT 1" | tr '|' ' ')"

# --- one batch against seven ---------------------------------------------
# The same month ingested and rated in one go, and in seven pieces rated as
# they come (each run re-rates the groups it touches): the same ratings,
# then the same invoices.
printf 'tax_rate,10\ntax,included\n' >>"$T/pkg/package.csv"
printf 'fee,charge,description\nhotline,monthly,Hotline subscription\n' >"$T/pkg/fees.csv"
printf 'fee,from,price\nhotline,1,299000\nhotline,2,49000\n' >"$T/pkg/fee_prices.csv"
awk -F, 'NR == 1 { print "account,fee,quantity,activated"; next }
	{ printf "%s,hotline,%d,2025-01-01\n", $1, NR % 3 + 1 }' "$T/pkg/accounts.csv" \
	>"$T/pkg/account_fees.csv"
# 30 test minutes for accounts new this month: a call's price depends on
# the calls before it
printf 'plan,rounding,decimals,test_minutes,test_days\nstd,half-up,0,30,30\n' >"$T/pkg/plans.csv"
sed 's/,2025-01-01$/,2026-11-01/' "$T/pkg/accounts.csv" >"$T/acc.csv" && mv "$T/acc.csv" "$T/pkg/accounts.csv"
scripts/gen-cdrs -n 8000 -s 11 -a 200 -p 3000 >"$T/month.csv"
split -l 1200 "$T/month.csv" "$T/piece."

month() {
	export TALLY_DB="$T/$1.db"
	tally-tariff load "$T/pkg" >/dev/null
	shift
	for f in "$@"; do
		tally-ingest --source sw --format asterisk --tz Asia/Ho_Chi_Minh \
			--numbering tariffs/numbering/vn.csv "$f" >/dev/null 2>&1
		tally-rate >/dev/null
	done
	tally-invoice close --period 2026-11 >/dev/null &&
	tally-invoice issue --period 2026-11 >/dev/null
	sqlite3 "$TALLY_DB" "SELECT c.source, c.record_key, r.payer, r.period, r.status,
		coalesce(r.class, ''), r.prefix, r.seconds, r.billed_seconds, r.amount,
		r.tier_pos, r.test_used, (SELECT group_concat(kind || ':' || seconds || ':' ||
		price, ' ') FROM rating_piece p WHERE p.cdr_id = r.cdr_id)
		FROM rating r JOIN cdr c ON c.id = r.cdr_id ORDER BY 1, 2" >"$T/$(basename "$TALLY_DB" .db).ratings"
	sqlite3 "$TALLY_DB" "SELECT i.number, i.account, i.subtotal, i.tax, i.total,
		l.seq, l.description, l.quantity, l.amount, l.tax
		FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id ORDER BY 1, 6" \
		>"$T/$(basename "$TALLY_DB" .db).invoices"
}
month whole "$T/month.csv"
month pieces "$T"/piece.*
check "seven pieces: as many CDRs rated as in one batch" \
	"$(wc -l <"$T/whole.ratings")" "$(wc -l <"$T/pieces.ratings")"
check "test minutes are used (the order of the calls matters)" yes \
	"$(grep -q 'test:' "$T/whole.ratings" && echo yes || echo no)"
# ... and in the order of the calls: each account's test minutes go to its
# earliest calls, so no call with a test piece starts after a paid call of
# the same account without one (worked out from the CDRs' start times, not
# from how tally orders them).
check "test minutes go to each account's earliest calls" "0" \
	"$(sqlite3 "$T/whole.db" "SELECT count(*) FROM (SELECT r.payer,
	  max(CASE WHEN t.cdr_id IS NOT NULL THEN c.start_ts END) AS last_test,
	  min(CASE WHEN t.cdr_id IS NULL THEN c.start_ts END) AS first_paid
	  FROM rating r JOIN cdr c ON c.id = r.cdr_id
	  LEFT JOIN (SELECT DISTINCT cdr_id FROM rating_piece WHERE kind = 'test') t
	  ON t.cdr_id = r.cdr_id WHERE r.status = 'rated' GROUP BY r.payer)
	  WHERE last_test > first_paid")"
check "seven pieces rated as they come: the ratings of one batch" "" \
	"$(diff "$T/whole.ratings" "$T/pieces.ratings" | head -n 5)"
check "200 invoices issued" 200 "$(cut -d'|' -f1 "$T/whole.invoices" | sort -u | wc -l | tr -d ' ')"
check "seven pieces: the invoices of one batch, line for line" "" \
	"$(diff "$T/whole.invoices" "$T/pieces.invoices" | head -n 5)"

# The owner of a number pays for calls to it whatever account field the
# switch wrote (issue 15, part 3; tally-tariff(5), Steps).  Figures by hand:
# toll-free 60 VND/min and national 100 VND/min, both 1/1, no test minutes.
. tests/cli/lib.sh

# pkg DIR RESELLER OWNER
pkg() {
	mkdir -p "$1"
	printf 'key,value\nreseller,%s\ncurrency,VND\n' "$2" >"$1/package.csv"
	printf 'class,priority,type,caller,callee,payer\ntollfree,10,voice,,^\\+841800,owner\nnational,20,voice,,^\\+84,caller\n' >"$1/classes.csv"
	printf 'deck,prefix,destination,price,connection_fee,initial,increment,min_duration,band,effective_from,effective_to\nd,+84,Vietnam,100,,1,1,,,2026-01-01,\nd,+841800,Toll-free,60,,1,1,,,2026-01-01,\n' >"$1/rates.csv"
	printf 'plan,rounding,decimals,test_minutes,test_days\np,half-up,0,,\n' >"$1/plans.csv"
	printf 'plan,class,pricing\np,tollfree,deck:d\np,national,deck:d\n' >"$1/plan_classes.csv"
	printf 'account,plan,timezone,created\n%s,p,Asia/Ho_Chi_Minh,2026-01-01\n' "$3" >"$1/accounts.csv"
	printf 'number,account\n+8418001234,%s\n' "$3" >"$1/numbers.csv"
}
ratings() { sqlite3 "$TALLY_DB" "SELECT c.account || ':' || c.callee || ':' || r.payer || ':' ||
	r.status || ':' || (r.amount / 1000000) || ':' || r.reason FROM rating r JOIN cdr c
	ON c.id = r.cdr_id ORDER BY c.start_ts" | paste -sd'|'; }
{
	ast_cdr ""  18001234   "2026-11-10 10:00:00" 600 a
	ast_cdr ZZ  18001234   "2026-11-10 11:00:00" 120 b
	ast_cdr ""  18001234   "2026-11-10 12:00:00" 0 c "NO ANSWER"
	ast_cdr ""  0281234567 "2026-11-10 13:00:00" 60 d
	ast_cdr ZZ  0281234567 "2026-11-10 14:00:00" 60 e
} >"$T/calls.csv"

fresh_db
pkg "$T/r1" r1 OWN
tally-tariff load "$T/r1" >/dev/null
tally-ingest --source s --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$T/calls.csv" >/dev/null 2>&1
run 0 "the calls rate" tally-rate
check "the toll-free number's owner pays, with no account or an unknown one; others are unrated" \
	":+8418001234:OWN:rated:600:|ZZ:+8418001234:OWN:rated:120:|:+8418001234:OWN:free:0:unanswered|:+84281234567::unrated:0:no account|ZZ:+84281234567:ZZ:unrated:0:unknown account \"ZZ\"" \
	"$(ratings)"
run 0 "November closes for the owner" tally-invoice close --period 2026-11 --account OWN
check "... whose invoice charges the two calls: 12.00 min at 60 = 720" "720" \
	"$(sqlite3 "$TALLY_DB" "SELECT total / 1000000 FROM invoice WHERE account = 'OWN'")"

# two resellers list the number: nobody can say who pays
fresh_db
pkg "$T/r2" r2 OTHER
tally-tariff load "$T/r1" >/dev/null
tally-tariff load "$T/r2" >/dev/null
tally-ingest --source s --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$T/calls.csv" >/dev/null 2>&1
tally-rate >/dev/null 2>&1
check "a number two resellers list leaves an account-less call to it unrated, naming both" \
	"unrated|+8418001234 is the number of OWN (r1) and of OTHER (r2): nobody can say who pays" \
	"$(sqlite3 "$TALLY_DB" "SELECT r.status, r.reason FROM rating r JOIN cdr c ON c.id = r.cdr_id
		WHERE c.account = '' AND c.start_ts = (SELECT min(start_ts) FROM cdr)")"

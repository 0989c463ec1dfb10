# Re-rating after a tariff change, with and without --period/--account
# filters, must end where a fresh store rated once with the new tariff ends.
. tests/cli/lib.sh

# pkg DIR OWNER: accounts A, B, C (60 test minutes for 60 days from 1 Nov);
# +8418001234 is toll-free, paid by OWNER; national calls 100 VND/min, 1/1.
pkg() {
	mkdir -p "$1"
	printf 'key,value\nreseller,r1\ncurrency,VND\n' >"$1/package.csv"
	printf 'class,priority,type,caller,callee,payer\ntollfree,10,voice,,^\\+841800,owner\nnational,20,voice,,^\\+84,caller\n' >"$1/classes.csv"
	printf 'deck,prefix,destination,price,connection_fee,initial,increment,min_duration,band,effective_from,effective_to\nd,+84,Vietnam,100,,1,1,,,2026-01-01,\nd,+841800,Toll-free,60,,1,1,,,2026-01-01,\n' >"$1/rates.csv"
	printf 'plan,rounding,decimals,test_minutes,test_days\np,half-up,0,60,60\n' >"$1/plans.csv"
	printf 'plan,class,pricing\np,tollfree,deck:d\np,national,deck:d\n' >"$1/plan_classes.csv"
	printf 'account,plan,timezone,created\nA,p,Asia/Ho_Chi_Minh,2026-11-01\nB,p,Asia/Ho_Chi_Minh,2026-11-01\nC,p,Asia/Ho_Chi_Minh,2026-11-01\n' >"$1/accounts.csv"
	printf 'number,account\n+8418001234,%s\n' "$2" >"$1/numbers.csv"
}
ing() { tally-ingest --source s --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$1" >/dev/null 2>&1; }
ratings() { sqlite3 "$TALLY_DB" "SELECT substr(c.record_key, 7, instr(c.record_key, '|') - 7),
	r.payer, r.period, r.status, r.amount, r.test_used FROM rating r JOIN cdr c
	ON c.id = r.cdr_id ORDER BY 1"; }

pkg "$T/v1" A
pkg "$T/v2" B
# C calls the toll-free number for 60 minutes in November (its owner pays),
# A makes a 10-minute national call in December.
{ ast_cdr C 18001234 "2026-11-10 10:00:00" 3600 tf
  ast_cdr A 0281234567 "2026-12-05 10:00:00" 600 dec; } >"$T/calls.csv"

fresh_db
tally-tariff load "$T/v2" >/dev/null
ing "$T/calls.csv"
tally-rate >/dev/null
expected=$(ratings)
# Worked by hand with v2: B owns the number, so C's 3600 s go to B and use
# all of B's test minutes (0 VND); A's December call (within A's 60 days)
# uses A's own, untouched test minutes: 0 VND, 0 used before it.
check "fresh store, rated once with v2" "dec|A|2026-12|rated|0|0
tf|B|2026-11|rated|0|0" "$expected"

fresh_db
tally-tariff load "$T/v1" >/dev/null
ing "$T/calls.csv"
tally-rate >/dev/null
# With v1, A owns the number: C's call uses A's 3600 test seconds, so A's
# December call is charged 600 s at 100/min = 1000 VND.
check "with v1, A pays for C's call and then for its own" "dec|A|2026-12|rated|1000000000|3600
tf|A|2026-11|rated|0|0" "$(ratings)"
tally-tariff load "$T/v2" >/dev/null
run 1 "what-if with v2 before re-rating" tally-replay --batch 1 --tariff 2 --format csv
check "the what-if shows the toll-free call changing payer" "payer,A,B" \
    "$(awk -F, '$2 ~ /^SIP\/1-tf/ && $3 == "payer" { print $3 "," $4 "," $5 }' "$T/out")"
run 0 "after loading v2, rate one account only" tally-rate --account A
check "the filtered run alone already ends where a fresh rating does" "$expected" "$(ratings)"
run 0 "then everything" tally-rate
check "filtered re-rating ends where a fresh rating does" "$expected" "$(ratings)"
for b in $(sqlite3 "$TALLY_DB" 'SELECT id FROM batch'); do
	run 0 "replay of batch $b is identical" tally-replay --batch "$b"
done

# The same with the periods in the wrong order.
fresh_db
tally-tariff load "$T/v1" >/dev/null
ing "$T/calls.csv"
tally-rate >/dev/null
tally-tariff load "$T/v2" >/dev/null
run 0 "after loading v2, rate December first" tally-rate --period 2026-12
check "the December-only run already ends where a fresh rating does" "$expected" "$(ratings)"
run 0 "then everything" tally-rate
check "period order does not matter" "$expected" "$(ratings)"

# Volume tiers through tally-rate: the period's total decides every call's
# price, including calls rated before a late one arrived.
pkg "$T/vol" A
printf 'tiers,mode,count,initial,increment,above,upto,price\nv,volume,account,1,1,0,10,100\nv,volume,account,1,1,10,,50\n' >"$T/vol/tiers.csv"
printf 'plan,rounding,decimals,test_minutes,test_days\np,half-up,0,,\n' >"$T/vol/plans.csv"
printf 'plan,class,pricing\np,tollfree,deck:d\np,national,tiers:v\n' >"$T/vol/plan_classes.csv"
fresh_db
tally-tariff load "$T/vol" >/dev/null
{ ast_cdr A 0281234567 "2026-11-10 10:00:00" 300 v1; ast_cdr A 0281234567 "2026-11-11 10:00:00" 240 v2; } >"$T/v12.csv"
ast_cdr A 0281234567 "2026-11-12 10:00:00" 120 v3 >"$T/v3.csv"
ing "$T/v12.csv"
tally-rate >/dev/null
# 540 s = 9 minutes: the first tier, 100/min: 500 and 400
check "volume below the bound" "v1|A|2026-11|rated|500000000|0
v2|A|2026-11|rated|400000000|0" "$(ratings)"
ing "$T/v3.csv"
tally-rate >/dev/null
# 660 s = 11 minutes > 10: every second at 50/min: 250, 200, 100
check "a late call that crosses the bound re-prices the period" "v1|A|2026-11|rated|250000000|0
v2|A|2026-11|rated|200000000|0
v3|A|2026-11|rated|100000000|0" "$(ratings)"
for b in $(sqlite3 "$TALLY_DB" 'SELECT id FROM batch'); do
	run 0 "replay of volume batch $b is identical" tally-replay --batch "$b"
done

# An account the tariff learns later: its CDRs were unrated under the CDR's
# account and the UTC month; once known, a call late on 30 Nov UTC belongs
# to December in the account's zone (UTC+7), even in a --period run.
pkg "$T/k1" A
cp -r "$T/k1" "$T/k2"
printf 'D,p,Asia/Ho_Chi_Minh,2025-01-01\n' >>"$T/k2/accounts.csv"
fresh_db
tally-tariff load "$T/k1" >/dev/null
{ ast_cdr D 0281234567 "2026-11-15 10:00:00" 60 d1; ast_cdr D 0281234567 "2026-12-01 03:00:00" 60 d2; } >"$T/d.csv"
ing "$T/d.csv"
tally-rate >/dev/null 2>&1
check "unknown account: unrated under the UTC month" "d1|D|2026-11|unrated|0|0
d2|D|2026-11|unrated|0|0" "$(ratings)"
tally-tariff load "$T/k2" >/dev/null
run 1 "what-if with the version that knows D" tally-replay --batch 1 --tariff 2 --format csv
check "the what-if compares D's CDRs (both become rated)" 2 \
    "$(grep -c ',status,"unrated: unknown account ""D""",rated$' "$T/out")"
run 0 "a --period run once D is known" tally-rate --period 2026-11
# D was created in 2025: no test minutes; 60 s at 100/min = 100 VND each
check "each call in its own local month" "d1|D|2026-11|rated|100000000|0
d2|D|2026-12|rated|100000000|0" "$(ratings)"

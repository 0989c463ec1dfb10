# tally-rate and tally-replay over a store: determinism, late CDRs, unrated
# CDRs fixed by a new tariff, usage totals, replay and what-if.
. tests/cli/lib.sh

hdr='"hcm-sales","0903111222","%s","from-internal","x","PJSIP/1-%s","PJSIP/t-%s","Dial","x","%s","%s","%s",%d,%d,"ANSWERED","DOCUMENTATION","%s",""\n'
# cdr ANSWER_LOCAL SECONDS CALLEE UNIQUEID: one answered 18-column line
cdr() {
	end=$(date -u -d "$1 UTC + $2 seconds" '+%Y-%m-%d %H:%M:%S')
	printf "$hdr" "$3" "$4" "$4" "$1" "$1" "$end" "$2" "$2" "$4"
}
ing() { tally-ingest --source pbx --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$@" >/dev/null 2>&1; }
# the uniqueid part of the record key names the call
ratings() { sqlite3 "$TALLY_DB" "SELECT substr(c.record_key, 9, instr(c.record_key, '|') - 9), r.status, r.billed_seconds, r.amount,
	r.tier_pos, r.test_used FROM rating r JOIN cdr c ON c.id = r.cdr_id ORDER BY c.record_key"; }

# hcm-sales (created 2026-11-10, 60 test minutes) calls on-net lines.
{ cdr "2026-11-12 09:00:00" 1800 0901234567 a1; cdr "2026-11-12 10:00:00" 2400 0901234567 a2
  cdr "2026-11-13 09:00:00" 600 0901234567 a3; } >"$T/first.csv"
cdr "2026-11-12 09:45:00" 300 0901234567 late >"$T/late.csv"

tally-tariff load tariffs/vn-hotline >/dev/null
ing "$T/first.csv"
run 0 "rate" tally-rate
contains "summary line" "$T/out" "rated 3 CDRs in 1 periods: 3 rated, 0 free, 0 unrated"
before=$(ratings)
run 0 "rate an already rated store" tally-rate
check "nothing to rate the second time" "rated 0 CDRs in 0 periods: 0 rated, 0 free, 0 unrated" "$(cat "$T/out")"
check "ratings unchanged by the second run" "$before" "$(ratings)"

# A CDR arrives late, earlier in the same period: the period is re-rated so
# that test minutes and tier positions are those of the true call order.
ing "$T/late.csv"
run 0 "rate after a late CDR" tally-rate
late=$(ratings)
fresh_db
tally-tariff load tariffs/vn-hotline >/dev/null
cat "$T/first.csv" "$T/late.csv" >"$T/all.csv"
ing "$T/all.csv"
tally-rate >/dev/null
check "late arrival rates exactly as if all had come at once" "$(ratings)" "$late"
# Worked by hand (6/6 increments, 500 VND/min on-net first tier, 3600 test s):
# a1 1800 s all test; late 300 s all test (2100 used); a2 2400 s: 1500 test,
# 900 s charged at 500/min = 7500; a3 600 s, no test left: 600 s at 500/min
# = 5000, from tier position 900 s.
check "test minutes used in call order" "a1|rated|1800|0|0|0
a2|rated|2400|7500000000|0|2100
a3|rated|600|5000000000|900|3600
late|rated|300|0|0|1800" "$(ratings)"

# usage: the per-CDR amounts of the period add up to the report's amount
run 0 "usage csv" tally-report usage --period 2026-11 --format csv
check "usage row" "hcm-sales,onnet,4,5100,5100,12500" "$(sed -n 2p "$T/out")"
check "usage amount equals the sum of the CDRs' amounts" \
    "$(sqlite3 "$TALLY_DB" "SELECT sum(amount) / 1000000 FROM rating WHERE period = '2026-11' AND class = 'onnet'")" \
    "$(sed -n 2p "$T/out" | cut -d, -f6)"
run 0 "usage json" tally-report usage --period 2026-11 --format json
contains "json carries the amount as text" "$T/out" '"amount": "12500"'

# Replay: as rated, identical; a what-if with a changed price lists the
# changed CDRs, and only those.
run 0 "replay the batch as rated" tally-replay --batch 1
cp -r tariffs/vn-hotline "$T/dearer"
sed -i 's/^\(onnet,graduated,line,6,6,0,1000\),500/\1,520/' "$T/dearer/tiers.csv"
tally-tariff load "$T/dearer" >/dev/null
run 1 "what-if with a dearer first tier differs" tally-replay --batch 1 --tariff 2 --format csv
check "what-if header" "cdr,record_key,field,stored,replayed" "$(head -n 1 "$T/out")"
check "only the charged CDRs differ (a2, a3)" "a2
a3" "$(awk -F, 'NR > 1 && $3 == "amount" { print $2 }' "$T/out" | cut -d'|' -f1 | sed 's,^PJSIP/1-,,' | sort)"
contains "the cause: the tier price" "$T/out" "tier 0-1000: 900 s at 500,tier 0-1000: 900 s at 520"

# An account the tariff does not know yet: unrated, then rated once added.
printf '"newco","0903111222","0901234567","c","x","PJSIP/1-z","PJSIP/t-z","Dial","x","2026-11-20 09:00:00","2026-11-20 09:00:00","2026-11-20 09:01:00",60,60,"ANSWERED","DOCUMENTATION","z1",""\n' >"$T/newco.csv"
ing "$T/newco.csv"
tally-rate >/dev/null 2>&1
run 0 "unrated report" tally-report unrated --format csv
contains "unrated with its reason" "$T/out" '|2026-11-20 09:01:00,newco,2026-11-20T02:00:00Z,+84901234567,"unknown account ""newco"""'
cp -r "$T/dearer" "$T/v3"
printf 'newco,hotline,Asia/Ho_Chi_Minh,2025-01-01,\n' >>"$T/v3/accounts.csv"
tally-tariff load "$T/v3" >/dev/null
run 0 "rate after the tariff learns the account" tally-rate
check "nothing unrated any more" 1 "$(tally-report unrated --format csv | wc -l)"
# 60 s at 6/6 = 60 s, dearer first tier 520/min = 520 VND
check "newco's call rated" "rated|520000000" "$(sqlite3 "$TALLY_DB" "SELECT status, amount FROM rating r JOIN cdr c ON c.id = r.cdr_id WHERE c.record_key LIKE 'PJSIP/1-z|%'")"
for b in $(sqlite3 "$TALLY_DB" 'SELECT id FROM batch'); do
	run 0 "replay of batch $b after re-rating is identical" tally-replay --batch "$b"
done

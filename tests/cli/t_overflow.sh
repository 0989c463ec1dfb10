# Every sum of money is checked (tally-invoice(1), AMOUNTS): an overflow is an
# error naming the account and period, never a wrapped figure.  The largest
# amount is 2^63 - 1 micro-units: 9,223,372,036,854.775807 currency units.
. tests/cli/lib.sh

fresh_db
tally-tariff load tests/cli/invoice-vn >/dev/null

# A payment is at most 999,999,999,999 VND (12 whole digits, ~10^18
# micro-units).  Nine of them: 8,999,999,999,991 VND =
# 8,999,999,999,991,000,000 micro-units, below 2^63 - 1: it fits.  Ten:
# 9,999,999,999,990,000,000 micro-units, beyond it: the tenth, on 2026-11-10,
# overflows.
pay() { i=1; while [ $i -le "$2" ]; do
	tally-account pay "$1" 999999999999 --date "2026-11-$(printf %02d $i)" >/dev/null
	i=$((i + 1)); done; }
pay L1 9
pay H6 10
run 0 "a balance just below 2^63 micro-units" tally-account show L1
contains "... is exact" "$T/out" "balance 8999999999991"
run 1 "a balance beyond 2^63 micro-units is an error" tally-account show H6
contains "... naming the account and the ledger's dates" "$T/err" \
    "account H6, ledger from the start to the end: the sum of its amounts does not fit in 64-bit micro-units (overflow)"
run 1 "... in tally-report balances too" tally-report balances
contains "... naming the account" "$T/err" "account H6, ledger from the start to the end"
run 1 "... and in the running balance of the ledger" tally-account ledger H6
contains "... naming the account and the date" "$T/err" \
    "account H6, ledger up to 2026-11-10: the running balance does not fit in 64-bit micro-units (overflow)"
check "... never a wrapped figure" 0 "$(grep -c -- ' -[0-9]' "$T/out")"

# Fees: 93 holdings of 1,000,000 hotlines at 100,000 VND, each 10^11 VND, the
# most one holding may charge (tally-tariff(5)); together 9.3 x 10^12 VND =
# 9.3 x 10^18 micro-units, beyond 2^63 - 1.  92 of them (9.2 x 10^18) fit.
cp -r tests/cli/invoice-vn "$T/big"
printf 'fee,from,price\nhotline,1,100000\nusers,1,400000\n' >"$T/big/fee_prices.csv"
{
	echo account,fee,quantity,activated,cancelled
	i=0; while [ $i -lt 93 ]; do echo "Q5,hotline,1000000,2026-01-01,"; i=$((i + 1)); done
} >"$T/big/account_fees.csv"
run 0 "93 holdings, each within the limit, validate" tally-tariff validate "$T/big"
fresh_db
tally-tariff load "$T/big" >/dev/null
printf '"Q5","0901000001","0901234567","c","x","SIP/1-a","SIP/2-a","Dial","x","2026-11-05 10:00:00","2026-11-05 10:00:00","2026-11-05 10:02:00",120,120,"ANSWERED","DOCUMENTATION","ov-1",""\n' >"$T/q5.csv"
tally-ingest --source vn --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$T/q5.csv" >/dev/null 2>&1
tally-rate >/dev/null 2>&1
run 1 "a fee sum beyond 2^63 micro-units stops the close" tally-invoice close --period 2026-11
check "... no draft with a wrapped figure" 0 \
    "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM invoice WHERE account = 'Q5'")"
contains "... naming the account and the period" "$T/err" \
    "account Q5, period 2026-11: the sum of its fees does not fit in 64-bit micro-units (overflow)"

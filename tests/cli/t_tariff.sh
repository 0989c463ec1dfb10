# tally-tariff: validate reports every problem at once; load, list, diff;
# a reseller cannot touch another reseller's accounts.
. tests/cli/lib.sh

run 0 "validate the Vietnamese package" tally-tariff validate tariffs/vn-hotline
contains "validate names the reseller" "$T/out" "reseller mobi-bl, VND"
run 0 "validate the Chinese package" tally-tariff validate tariffs/cn-400

# A broken copy: four independent mistakes, all reported, with file:line:column.
cp -r tariffs/vn-hotline "$T/bad"
sed -i 's/^currency,VND/currency,VNX/' "$T/bad/package.csv"
printf 'tollfree,+841800,the same prefix again,100,,6,6,,,2026-06-01,\n' >>"$T/bad/rates.csv"
printf 'nosuch,onnet,free\n' >>"$T/bad/plan_classes.csv"
printf 'newco,hotline,Asia/Ho_Chi_Minh,2026-13-01,\n' >>"$T/bad/accounts.csv"
run 1 "validate a broken package exits 1" tally-tariff validate "$T/bad"
contains "unknown currency, with file:line:column" "$T/err" \
    "package.csv:$(grep -n '^currency' "$T/bad/package.csv" | cut -d: -f1):value: unknown currency \"VNX\""
contains "unknown plan named" "$T/err" "plan_classes.csv:$(wc -l <"$T/bad/plan_classes.csv"):plan: unknown plan \"nosuch\""
contains "bad date named" "$T/err" "accounts.csv:$(wc -l <"$T/bad/accounts.csv"):created: \"2026-13-01\" is not a date"
grep -q "rates.csv:$(wc -l <"$T/bad/rates.csv"):prefix: prefix \"+841800\" already has a rate for these dates in deck \"tollfree\"" "$T/err"
check "same prefix for the same dates reported" 0 $?
contains "problems counted" "$T/err" "4 problems"
run 1 "load refuses an invalid package" tally-tariff load "$T/bad"
check "an invalid package does not even create the store" absent "$([ -e "$TALLY_DB" ] && echo present || echo absent)"

run 0 "load" tally-tariff load tariffs/vn-hotline
contains "load prints the version" "$T/out" "version 1: mobi-bl, sha256"
run 0 "load the same content again" tally-tariff load tariffs/vn-hotline
contains "same content is not a new version" "$T/out" "already loaded as version 1"

# Another reseller's package that lists one of mobi-bl's accounts.
cp -r tariffs/cn-400 "$T/thief"
printf 'hcm-sales,annual-010,Asia/Shanghai,2026-01-01,\n' >>"$T/thief/accounts.csv"
run 1 "a package touching another reseller's account is refused" tally-tariff load "$T/thief"
contains "refusal names the account and its owner" "$T/err" "account hcm-sales belongs to reseller mobi-bl, not qiaohao-400; nothing loaded"
check "refused load stored nothing" 1 "$(sqlite3 "$TALLY_DB" 'SELECT count(*) FROM tariff_version')"
check "the account still belongs to mobi-bl" mobi-bl "$(sqlite3 "$TALLY_DB" "SELECT reseller FROM account WHERE id = 'hcm-sales'")"

# A second version: one price changed.
cp -r tariffs/vn-hotline "$T/v2"
sed -i 's/^\(sms-offnet,+84,[^,]*\),350,/\1,360,/' "$T/v2/rates.csv"
run 0 "load a changed package" tally-tariff load "$T/v2"
run 0 "list" tally-tariff list
check "two versions listed" 2 "$(grep -c mobi-bl "$T/out")"
check "the newest is current" 2 "$(awk '/current/ { print $1 }' "$T/out")"
run 1 "diff of two different versions exits 1" tally-tariff diff 1 2
check "diff shows the changed row, out and in" "2" "$(grep -c '^[-+] rates.csv: sms-offnet,+84,' "$T/out")"
check "diff shows nothing else" 2 "$(wc -l <"$T/out")"
run 0 "diff of a version with itself" tally-tariff diff 2 2
run 2 "diff with a version that does not exist" tally-tariff diff 1 9
contains "missing version named" "$T/err" "no tariff version 9"

# Two column names swapped in a header: no data row changed, every meaning did.
cp -r tariffs/vn-hotline "$T/swapped"
sed -i 's/^\(deck,prefix,destination,price,connection_fee\),initial,increment,/\1,increment,initial,/' "$T/swapped/rates.csv"
tally-tariff load "$T/swapped" >/dev/null
run 1 "diff sees a header change" tally-tariff diff 2 3
contains "header row shown" "$T/out" "+ rates.csv: (header) deck,prefix,destination,price,connection_fee,increment,initial,"

# A holding whose amount could not be counted in money is refused: 1000000
# units at 200,000,000 VND is 2 * 10^14 VND, beyond the 10^11 limit; at
# 100,000 VND (10^11 exactly) it is accepted.
cp -r tests/cli/invoice-vn "$T/big"
sed -i 's/^hotline,1,299000$/hotline,1,200000000/' "$T/big/fee_prices.csv"
printf 'account,fee,quantity,activated,cancelled\nH6,hotline,1000000,2026-01-01,\n' \
	>"$T/big/account_fees.csv"
run 1 "a fee holding beyond 10^11 currency units" tally-tariff validate "$T/big"
contains "... names the file, line and column" "$T/err" "account_fees.csv:2:quantity: 1000000 units at hotline"
sed -i 's/^hotline,1,200000000$/hotline,1,100000/' "$T/big/fee_prices.csv"
run 0 "... exactly 10^11 is accepted" tally-tariff validate "$T/big"

# One number rented twice, written with and without its '+', is found.
cp -r tests/cli/invoice-cn "$T/rent2"
echo "C1,864001234567,rent400,2026-08-01" >>"$T/rent2/rentals.csv"
run 1 "a number rented twice, once without its +" tally-tariff validate "$T/rent2"
contains "... is refused" "$T/err" "number \"864001234567\" rented twice"

# Invoice and credit-note numbers are never cut (tally-tariff(5), invoice_prefix):
# a prefix has at most 40 characters, the default ones too.  A 60-character
# reseller gives a 61-character default invoice prefix ("...-") and a
# 64-character credit prefix ("...-CN-"): both refused, naming file and field.
long=r123456789012345678901234567890123456789012345678901234567890
long=${long%?}	# 60 characters
cp -r tests/cli/invoice-vn "$T/long"
sed -i "s/^reseller,ivn\$/reseller,$long/" "$T/long/package.csv"
run 1 "a 60-character reseller's default prefixes are refused" tally-tariff validate "$T/long"
contains "... the invoice prefix, naming file and field" "$T/err" \
    "package.csv: invoice_prefix: the default, reseller \"$long\" and a dash, is 61 characters; at most 40"
contains "... the credit-note prefix, naming file and field" "$T/err" \
    "package.csv: credit_prefix: the default, reseller \"$long\" and \"-CN-\", is 64 characters; at most 40"
# 40 characters is the longest prefix accepted (41 is not); the numbers made
# from it are the whole prefix and six digits: 46 characters.
p40=INV-2026/abcdefghijklmnopqrstuvwxyz01234
p41=${p40}5
c40=CN-2026/abcdefghijklmnopqrstuvwxyz012345
printf 'invoice_prefix,%s\ncredit_prefix,%s\n' "$p41" "$c40" >>"$T/long/package.csv"
run 1 "a 41-character invoice_prefix is refused" tally-tariff validate "$T/long"
contains "... naming the line and field" "$T/err" \
    "package.csv:$(grep -n '^invoice_prefix' "$T/long/package.csv" | cut -d: -f1):value: \"$p41\": use 1 to 40"
sed -i "s|^invoice_prefix,.*|invoice_prefix,$p40|" "$T/long/package.csv"
run 0 "40-character explicit prefixes with the long reseller validate" tally-tariff validate "$T/long"
fresh_db
tally-tariff load "$T/long" >/dev/null
{
	printf '"L1","0901000001","0901234567","c","x","SIP/1-a","SIP/2-a","Dial","x","2026-11-05 10:00:00","2026-11-05 10:00:00","2026-11-05 10:02:00",120,120,"ANSWERED","DOCUMENTATION","pfx-1",""\n'
} >"$T/long.csv"
tally-ingest --source vn --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$T/long.csv" >/dev/null 2>&1
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 >/dev/null 2>&1
run 0 "invoices with a 40-character prefix are issued" tally-invoice issue --period 2026-11
first=$(sqlite3 "$TALLY_DB" "SELECT number FROM invoice WHERE kind = 'invoice' ORDER BY number LIMIT 1")
second=$(sqlite3 "$TALLY_DB" "SELECT number FROM invoice WHERE kind = 'invoice' ORDER BY number LIMIT 1 OFFSET 1")
check "... the first number is the whole prefix and 000001" "${p40}000001" "$first"
run 0 "void one" tally-invoice void "$first" --reason one --date 2026-12-10
contains "... its credit note is the whole credit prefix and 000001" "$T/out" "credit note ${c40}000001 for $first"
run 0 "a second void (a cut number would repeat and break UNIQUE)" \
	tally-invoice void "$second" --reason two --date 2026-12-10
contains "... gets 000002" "$T/out" "credit note ${c40}000002 for $second"

# Command lines a clumsy operator writes (issue 16, item 9), by the rule
# behind each:
# - a number out of range is a usage error (2) naming the option and the range;
# - a batch, account or reseller the store does not hold is an error naming
#   it (1; 2 for tally-replay and tally-tariff, whose 1 means "they differ");
# - an operand such as "-100" is an operand, refused with tally's own words;
# - an output file that cannot be made is tally's one message, with the
#   reason, and nothing from libxlsxwriter or libharu;
# - rejected lines are printed only for a batch that was stored.
. tests/cli/lib.sh

tally-tariff load tariffs/vn-hotline >/dev/null
tally-ingest --source hcm-ast --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv samples/asterisk >/dev/null 2>&1
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 >/dev/null 2>&1
tally-invoice issue --period 2026-11 >/dev/null 2>&1
big=99999999999999999999	# past INT64_MAX: strtoll would cut it to fit

# --- numbers out of range, batches that do not exist ------------------------
run 2 "replay --batch past 64 bits" tally-replay --batch $big
check "... names the option and the range" \
	"tally-replay: --batch $big: expected 1 to 9223372036854775807" "$(cat "$T/err")"
run 2 "replay a batch that does not exist" tally-replay --batch 999
check "... names it" "tally-replay: no batch 999 (tally-report reconcile lists them)" \
	"$(cat "$T/err")"
run 0 "replay a batch that does" tally-replay --batch 1
run 2 "report rejects --batch past 64 bits" tally-report rejects --batch $big
contains "... names the option and the range" "$T/err" \
	"--batch $big: expected 1 to 9223372036854775807"
run 1 "report rejects of a batch that does not exist" tally-report rejects --batch 999
contains "... names it" "$T/err" "no batch 999"
run 2 "tariff diff past 64 bits" tally-tariff diff $big 1
contains "... says the range" "$T/err" "1 to 9223372036854775807"

# --- accounts and resellers that do not exist ---------------------------------
run 1 "rate --account of no tariff" tally-rate --account NOPE
check "... names it" 'tally-rate: account "NOPE" is in no loaded tariff; nothing was changed' \
	"$(cat "$T/err")"
run 0 "rate --account of a tariff" tally-rate --account ACME-VN
run 1 "report usage --account of no tariff" tally-report usage --period 2026-11 --account NOPE
contains "... names it" "$T/err" 'account "NOPE" is in no loaded tariff'
run 1 "report bundles --account of no tariff" tally-report bundles --period 2026-11 --account NOPE
run 1 "report revenue --reseller of no tariff" tally-report revenue --period 2026-11 --reseller NOPE
contains "... names it" "$T/err" 'reseller "NOPE" has no loaded tariff'
run 1 "invoice list --account of no tariff" tally-invoice list --account NOPE
contains "... names it" "$T/err" 'account "NOPE" is in no loaded tariff'
run 0 "invoice list --account of a tariff" tally-invoice list --account ACME-VN
run 1 "invoice list --reseller of no tariff" tally-invoice list --reseller NOPE
run 1 "export --account of no tariff" tally-export --period 2026-11 --account NOPE \
	--format csv --out "$T/csv"
contains "... names it" "$T/err" 'account "NOPE" is in no loaded tariff'
run 1 "account list --reseller of no tariff" tally-account list --reseller NOPE
contains "... names it" "$T/err" 'reseller "NOPE" has no loaded tariff'
run 2 "tariff list --reseller of no tariff (2: tariff's store errors)" \
	tally-tariff list --reseller NOPE
contains "... names it" "$T/err" 'reseller "NOPE" has no loaded tariff'

# --- negative amounts are operands, refused in tally's words ------------------
run 2 "pay a negative amount" tally-account pay ACME-VN -100
check "... refused as a payment, with the way to credit" \
	"tally-account: pay -100: a payment is an amount greater than 0 (to credit a customer for an invoice, issue a credit note: tally-invoice credit NUMBER --amount AMOUNT --reason TEXT)" \
	"$(cat "$T/err")"
run 2 "pay -.5 (no digit after the sign)" tally-account pay ACME-VN -.5
contains "... refused as a payment too, not as an option" "$T/err" \
	"tally-account: pay -.5: a payment is an amount greater than 0"
run 2 "deposit a negative amount, an option after it" \
	tally-account deposit ACME-VN -1.5 --date 2026-11-01
contains "... refused as a deposit, not as an option" "$T/err" \
	"deposit -1.5: a deposit is an amount greater than 0"
run 0 "options still go after the operands" \
	tally-account pay ACME-VN 100 --date 2026-11-01 --reference "-5 is a reference"
run 0 "... and before them, and -- ends them" \
	tally-account --date 2026-11-02 pay -- ACME-VN 5
check "two payments stored, none of the refused ones" "2" \
	"$(tally-account ledger ACME-VN | grep -c ' payment ')"

# --- an output file that cannot be made ---------------------------------------
run 1 "report xlsx into a missing folder" \
	tally-report reconcile --format xlsx --out "$T/missing/r.xlsx"
check "... tally's one line, with the reason, nothing from libxlsxwriter" \
	"tally-report: $T/missing/r.xlsx.tmp: No such file or directory" "$(cat "$T/err")"
number=$(tally-invoice list --account ACME-VN --period 2026-11 | awk '{ print $1 }')
mkdir -p "$T/ex/$number.xlsx.tmp" "$T/ex/$number.pdf.tmp"	# in the way
run 1 "export xlsx over a folder in the way" \
	tally-export --invoice "$number" --format xlsx --out "$T/ex"
check "... tally's one line, with the reason" \
	"tally-export: $T/ex/$number.xlsx.tmp: Is a directory" "$(cat "$T/err")"
run 1 "export pdf over a folder in the way" \
	tally-export --invoice "$number" --format pdf --out "$T/ex"
check "... tally's one line, with the reason, not libharu's error code" \
	"tally-export: $T/ex/$number.pdf.tmp: Is a directory" "$(cat "$T/err")"

# --- rejects of a batch that is rolled back -------------------------------------
# A file with two bad lines first, then 20000 good ones; the store may not
# grow past a file size limit (RLIMIT_FSIZE, which binds root too, with
# SIGXFSZ ignored so that a write fails with EFBIG): its write-ahead log
# outgrows it before the commit, as on a full disk, and the whole batch is
# rolled back after both rejects were found.
{
	echo 'not,a,cdr'
	echo 'garbage'
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "\"hcm-sales\",\"1001\",\"0901234567\",\"from-internal\",\"x\",\"PJSIP/1001-%08d\",\"PJSIP/v-%08d\",\"Dial\",\"x\",\"2026-11-21 08:01:12\",\"2026-11-21 08:01:19\",\"2026-11-21 08:04:02\",170,163,\"ANSWERED\",\"DOCUMENTATION\",\"1795222872.%d\",\"\"\n", i, i, i }'
} >"$T/big.csv"
run 1 "a batch that outgrows the file size limit fails" sh -c \
	'trap "" XFSZ; ulimit -f 200; exec tally-ingest --source big --format asterisk "$1"' \
	sh "$T/big.csv"
contains "... and stores nothing of it" "$T/err" "nothing of it was stored"
check "... with no reject line printed for it" "0" "$(grep -c 'big.csv:[0-9]*:' "$T/err")"
check "... nor stored" "" "$(tally-report rejects --format csv | grep big.csv)"
run 0 "the same file without the limit is stored" \
	tally-ingest --source big --format asterisk "$T/big.csv"
check "... and its two rejects are printed" "2" "$(grep -c 'big.csv:[12]: line:' "$T/err")"

# A draft whose number would not fit (a prefix over 40 characters, here put
# in the store by hand: tally-tariff validate refuses such a package) is
# refused at issue, nothing issued.  The guard read the prefix as a number
# (0 for any prefix not starting with a digit) and never fired.
fresh_db
tally-tariff load tariffs/vn-hotline >/dev/null
tally-ingest --source hcm-ast --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv samples/asterisk >/dev/null 2>&1
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 --account ACME-VN >/dev/null 2>&1
sqlite3 "$TALLY_DB" "UPDATE invoice SET prefix = 'INV-' || printf('%.41c', 'X') WHERE status = 'draft'"
run 1 "a draft whose number cannot fit is not issued" tally-invoice issue --period 2026-11 --account ACME-VN
contains "... saying why" "$T/err" "is not its prefix and six or more digits in fewer than 64 characters"
check "... nothing issued" "0" "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM invoice WHERE status = 'issued'")"

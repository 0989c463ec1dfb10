# SIGKILL at a random moment, then a rerun: exactly the result of a clean
# run.  For each stage (ingest, rate, invoice close, invoice issue, spool
# ingest) a clean run into one store gives the expected result; then, in
# stores prepared identically up to the stage before, the stage is killed at
# a seeded random moment within its clean duration, its store checked
# (everything or nothing of the stage stored), the stage run again and its
# result compared with the clean one, row for row.  One more kill per stage
# lands in its commit: once the WAL has grown to half what the clean run's
# did.  A kill that came after the program had finished is still a case (its
# ok line says so); each stage needs one that landed while it ran.
#
#   TALLY_KILL_SEED    seed of the kill moments (printed in each ok line;
#                      default: the clock)
#   TALLY_KILL_LINES   CDRs generated (default: sized so that the clean ingest
#                      takes about TALLY_KILL_MS milliseconds, 1200, measured on
#                      a small calibration file: the sanitizer build gets
#                      fewer CDRs and about the same run time)
#   TALLY_KILL_TRIES   kill moments per stage (3; 1 once TALLY_KILL_BUDGET
#                      seconds, 60, have passed)
. tests/cli/lib.sh

now_ms() { echo $(($(date +%s%N) / 1000000)); }
start=$(now_ms)
seed=${TALLY_KILL_SEED:-$(($(date +%s) % 100000))}
tries=${TALLY_KILL_TRIES:-3}
budget=${TALLY_KILL_BUDGET:-60}
period=2026-11
vn=tariffs/numbering/vn.csv

# --- the data -----------------------------------------------------------
# Size: a small file ingested, timed, scaled to the clean ingest wanted.
if [ -n "${TALLY_KILL_LINES:-}" ]; then
	N=$TALLY_KILL_LINES
else
	scripts/gen-cdrs -n 5000 -s 3 -a 200 -p 3000 >"$T/cal.csv"
	t0=$(now_ms)
	tally-ingest --db "$T/cal.db" --source cal --format asterisk --tz Asia/Ho_Chi_Minh \
		"$T/cal.csv" >/dev/null 2>&1
	cal=$(($(now_ms) - t0))
	N=$((5000 * ${TALLY_KILL_MS:-1200} / (cal > 0 ? cal : 1)))
	[ "$N" -lt 6000 ] && N=6000
	[ "$N" -gt 60000 ] && N=60000
fi
A=$((N / 30))
echo "info: seed $seed, $N CDRs, $A accounts"

# The package of t_bench.sh's month: 10% tax included, graduated hotline
# fees, and 30 test minutes for accounts new this month, so that a call's
# price depends on the calls before it.
P=$T/pkg
scripts/gen-tariff -n 3000 -a "$A" "$P" >/dev/null
printf 'tax_rate,10\ntax,included\n' >>"$P/package.csv"
printf 'fee,charge,description\nhotline,monthly,Hotline subscription\n' >"$P/fees.csv"
printf 'fee,from,price\nhotline,1,299000\nhotline,2,49000\n' >"$P/fee_prices.csv"
awk -F, 'NR == 1 { print "account,fee,quantity,activated"; next }
	{ printf "%s,hotline,%d,2025-01-01\n", $1, NR % 3 + 1 }' "$P/accounts.csv" >"$P/account_fees.csv"
printf 'plan,rounding,decimals,test_minutes,test_days\nstd,half-up,0,30,30\n' >"$P/plans.csv"
sed 's/,2025-01-01$/,2026-11-01/' "$P/accounts.csv" >"$T/acc.csv" && mv "$T/acc.csv" "$P/accounts.csv"
# with 2% duplicates and 1% bad lines
scripts/gen-cdrs -n "$N" -s 7 -a "$A" -p 3000 >"$T/cdrs.csv"

# the store before ingest: the tariffs, and a few payments and a deposit for
# the ledger of the invoices
db0=$T/s0.db
tally-tariff --db "$db0" load "$P" >/dev/null
for a in acc00001 acc00002 acc00007; do
	tally-account --db "$db0" pay "$a" 100000 --date 2026-11-15 >/dev/null
done
tally-account --db "$db0" deposit acc00003 500000 --date 2026-11-02 >/dev/null

# stage NAME: the command of a stage, on the store $db
cmd_ingest() { tally-ingest --db "$db" --source sw --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering "$vn" "$T/cdrs.csv"; }
cmd_rate() { tally-rate --db "$db"; }
cmd_close() { tally-invoice --db "$db" close --period "$period"; }
cmd_issue() { tally-invoice --db "$db" issue --period "$period"; }
cmd_spool() { tally-ingest --db "$db" --source sp --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering "$vn" --spool "$spool"; }

# --- what each stage leaves, every row by its natural key -----------------
q() { sqlite3 -batch -bail "$db" "$@" 2>>"$T/dump.err"; }
# dump STAGE FILE: what STAGE left in $db, into FILE; a query that fails
# fails the test (an empty dump would compare equal)
dump() {
	: >"$T/dump.err"
	dump_"$1" >"$2" 2>>"$T/dump.err"
	if [ -s "$T/dump.err" ]; then not_ok "$1: the dump of the store" "$(head -c 400 "$T/dump.err")"; fi
}
dump_ingest() {
	q "SELECT 'batch', source, format, replace(replace(file, '$spool', ''), '$T', ''), sha256, bytes, read, accepted,
		rejected, duplicates FROM batch ORDER BY id"
	q "SELECT 'cdrs', count(*), sum(billsec), sum(start_ts), sum(duration) FROM cdr"
	q "SELECT c.source, record_key, account, caller_raw, caller, callee_raw, callee, start_ts,
		coalesce(answer_ts, '-'), end_ts, duration, billsec, disposition, type, b.sha256, line
		FROM cdr c JOIN batch b ON b.id = c.batch_id ORDER BY c.source, record_key"
	q "SELECT 'reject', b.sha256, line, field, reason, hex(raw) FROM reject r
		JOIN batch b ON b.id = r.batch_id ORDER BY 2, 3"
	q "SELECT 'dup', b.sha256, d.line, d.record_key, c.source, c.record_key FROM duplicate d
		JOIN batch b ON b.id = d.batch_id JOIN cdr c ON c.id = d.cdr_id ORDER BY 2, 3"
	tally-report --db "$db" reconcile --format csv | sed "s|$spool||g; s|$T||g"
}
dump_rate() {
	q "SELECT 'ratings', status, count(*), sum(amount), sum(billed_seconds), sum(test_used)
		FROM rating GROUP BY status ORDER BY status"
	q "SELECT c.source, c.record_key, coalesce(r.version_id, '-'), r.payer, r.period, r.status,
		coalesce(r.class, '-'), r.destination, r.prefix, r.seconds, r.billed_seconds, r.amount,
		r.reason, r.tier_pos, r.test_used, r.volume_total, coalesce(r.bundle_sub, '-'),
		coalesce(r.bundle_seq, '-'), coalesce(r.bundle_left, '-'),
		(SELECT group_concat(seq || ':' || kind || ':' || label || ':' || seconds || ':' ||
		 price || ':' || exact, ' ') FROM (SELECT * FROM rating_piece p
		 WHERE p.cdr_id = r.cdr_id ORDER BY seq))
		FROM rating r JOIN cdr c ON c.id = r.cdr_id ORDER BY 1, 2"
	q "SELECT 'window', * FROM bundle_window ORDER BY payer, seq"
	q "SELECT 'horizon', * FROM bundle_horizon ORDER BY payer"
	q "SELECT 'dirty', * FROM usage_dirty ORDER BY 2, 3"
	q "SELECT 'pending', * FROM rate_pending ORDER BY 2, 3"
	tally-report --db "$db" usage --period "$period" --format csv
}
dump_invoices() {
	q "SELECT 'invoices', kind, status, count(*), sum(subtotal), sum(tax), sum(total), sum(due)
		FROM invoice GROUP BY kind, status ORDER BY 2, 3"
	q "SELECT i.kind, coalesce(i.number, '-'), i.status, i.issuer, i.account, i.name, i.period,
		i.first_day, i.last_day, i.date, i.version_id, i.currency, i.decimals, i.prefix,
		i.credit_prefix, i.subtotal, i.tax, i.total, i.previous, i.payments, i.due,
		coalesce((SELECT number FROM invoice j WHERE j.id = i.refers_to), '-'), i.reason
		FROM invoice i ORDER BY account, period, kind, number"
	q "SELECT 'line', i.account, i.period, i.kind, l.seq, l.kind, l.description, l.quantity,
		l.unit_price, l.exact, l.amount, l.tax_rate, l.tax_included, l.tax, l.net, l.ref
		FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id ORDER BY 2, 3, 4, 5"
	q "SELECT 'tax', i.account, i.period, i.kind, t.seq, t.rate, t.included, t.exact, t.base, t.tax
		FROM invoice_tax t JOIN invoice i ON i.id = t.invoice_id ORDER BY 2, 3, 4, 5"
	q "SELECT 'call', i.account, i.period, i.kind, c.source, c.record_key, x.seconds,
		x.billed_seconds, x.amount, x.destination, x.class
		FROM invoice_cdr x JOIN invoice i ON i.id = x.invoice_id JOIN cdr c ON c.id = x.cdr_id
		ORDER BY 2, 3, 4, 5, 6"
	q "SELECT 'usage', i.account, i.period, i.kind, u.period, u.class, u.destination, u.kind,
		u.label, u.price, u.seconds, u.count, u.exact, u.basis
		FROM invoice_usage u JOIN invoice i ON i.id = u.invoice_id ORDER BY 2, 3, 4, 5, 6, 7, 8, 9, 10"
	q "SELECT 'dirty', * FROM usage_dirty ORDER BY 2, 3"
}
dump_close() { dump_invoices; }
dump_issue() {
	dump_invoices
	q "SELECT 'sequence', * FROM sequence ORDER BY 2, 3"
	q "SELECT 'ledger', l.account, l.date, l.kind, l.amount, l.number, l.reference,
		coalesce(i.number, '-') FROM ledger l LEFT JOIN invoice i ON i.id = l.invoice_id
		ORDER BY 2, 3, 4, 8, 5"
	tally-report --db "$db" revenue --period "$period" --format csv
	tally-report --db "$db" balances --format csv
}
dump_spool() {
	dump_ingest
	(cd "$spool/sp" && ls && sha256sum -- *)
}

# How much of a stage a killed run left: for the stages that are one
# transaction, all or nothing; a spool run stores file after file, and every
# file renamed .done has its batch.
state_ingest() { q "SELECT count(*) FROM batch; SELECT count(*) FROM cdr" | xargs; }
state_rate() { q "SELECT count(*) FROM rating"; }
state_close() { q "SELECT count(*) FROM invoice WHERE status = 'draft'"; }
state_issue() {
	q "SELECT count(*) || ' issued, sequence at ' || coalesce((SELECT last FROM sequence
		WHERE kind = 'invoice'), 0) || ', ' || (SELECT count(*) FROM ledger WHERE kind = 'invoice')
		|| ' ledger entries' FROM invoice WHERE status = 'issued'"
}
# ndone DIR: how many spool files of DIR are done
ndone() {
	set -- "$1"/*.done
	if [ -e "$1" ]; then echo $#; else echo 0; fi
}
state_spool() {
	# killed before the new store had its tables: no batch
	echo "$(ndone "$spool/sp") done, $(q "SELECT count(*) FROM sqlite_master
		WHERE name = 'batch'" | grep -q 1 && q "SELECT count(*) FROM batch" || echo 0) batches"
}
# state_ok STAGE STATE: what a kill may leave
state_ok() {
	case $1 in
	ingest) [ "$2" = "0 0" ] || [ "$2" = "$(cat "$T/ingest.state")" ] ;;
	rate | close) [ "$2" = 0 ] || [ "$2" = "$(cat "$T/$1.state")" ] ;;
	# numbering and freezing are one transaction: no number used without
	# its invoice
	issue) [ "$2" = "0 issued, sequence at 0, 0 ledger entries" ] ||
		[ "$2" = "$(cat "$T/issue.state")" ] ;;
	spool) d=${2%% done*} b=${2#*done, } b=${b%% batches}
		[ "$b" -ge "$d" ] && { [ "$d" -eq 0 ] ||
			[ "$(q "SELECT count(*) FROM cdr")" -ge $((d * per)) ]; } ;;
	esac
}

# copy_db FROM TO: a copy of a store no program has open
copy_db() {
	rm -f "$2" "$2-wal" "$2-shm"
	cp "$1" "$2"
	if [ -e "$1-wal" ]; then cp "$1-wal" "$2-wal"; fi
}

# prepare STAGE DB: the store (and spool) as the clean run had it before STAGE
prepare() {
	db=$2
	rm -f "$db" "$db-wal" "$db-shm"
	case $1 in
	ingest) src=$db0 ;; rate) src=$T/s1.db ;; close) src=$T/s2.db ;; issue) src=$T/s3.db ;;
	spool) src= ;;
	esac
	if [ -n "$src" ]; then copy_db "$src" "$db"; fi
	spool=${db%.db}.spool
	rm -rf "$spool"
	if [ "$1" = spool ]; then mkdir -p "$spool" && cp -r "$T/spool/sp" "$spool/sp"; fi
}

# --- the spool: the files a feed closed, of other CDRs (no duplicates nor
# bad lines, so that each record must be stored once) ----------------------
files=8
per=$((N / files))
mkdir -p "$T/spool/sp"
scripts/gen-cdrs -n $((per * files)) -s 12 -a "$A" -p 3000 -D 0 -B 0 >"$T/spool.csv"
/usr/bin/python3 - "$T/spool.csv" "$T/spool/sp" "$per" <<'PY'
import struct, sys, zlib
src, d, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(src, "rb").read().split(b"\n")[:-1]
for f in range(len(lines) // per):
    with open("%s/%012d.cdr" % (d, f + 1), "wb") as out:
        for l in lines[f * per:(f + 1) * per]:
            out.write(b"TSR1" + struct.pack("<II", len(l), zlib.crc32(l)) + l)
PY

# walwatch max PID WAL: the largest size the store's WAL reached while PID
# ran; walwatch kill PID WAL SIZE: SIGKILL PID once its WAL has reached SIZE
# bytes, that is with its commit under way (SQLite keeps a transaction's
# pages in its cache and writes them to the WAL when it commits), print the
# size then, or -1 if PID ended first.  Polled every millisecond.
cat >"$T/walwatch.py" <<'PY'
import os, sys, time
mode, pid, wal = sys.argv[1], int(sys.argv[2]), sys.argv[3]
want = int(sys.argv[4]) if len(sys.argv) > 4 else 0
def alive():
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rindex(")") + 2] not in "ZX"
top = 0
while alive():
    try:
        sz = os.stat(wal).st_size
    except OSError:
        sz = 0
    top = max(top, sz)
    if mode == "kill" and sz >= want:
        os.kill(pid, 9)
        print(sz)
        sys.exit(0)
    time.sleep(0.001)
print(top if mode == "max" else -1)
PY
walwatch() { /usr/bin/python3 "$T/walwatch.py" "$@"; }

# --- the clean runs, each stage on the store the last one left -------------
prepare ingest "$T/clean.db"
for s in ingest rate close issue spool; do
	if [ "$s" = spool ]; then prepare spool "$T/clean-spool.db"; fi
	t0=$(now_ms)
	cmd_"$s" >"$T/out" 2>"$T/err" &
	pid=$!
	walwatch max "$pid" "$db-wal" >"$T/$s.wal" &
	wpid=$!
	wait "$pid"
	rc=$?
	echo $(($(now_ms) - t0)) >"$T/$s.ms"
	wait "$wpid"
	if [ "$rc" -ne 0 ]; then not_ok "clean $s" "exit $rc" "$(head -c 400 "$T/err")"; fi
	dump $s "$T/$s.clean"
	state_"$s" >"$T/$s.state"
	case $s in
	ingest) copy_db "$db" "$T/s1.db" ;; rate) copy_db "$db" "$T/s2.db" ;;
	close) copy_db "$db" "$T/s3.db" ;;
	esac
	echo "info: clean $s: $(cat "$T/$s.ms") ms, WAL up to $(cat "$T/$s.wal") bytes: $(head -n 1 "$T/out")"
done

# The clean results are worth comparing with: all the data went through.
db=$T/clean.db
check "clean ingest: every line read, a few rejects and duplicates" "$N yes" \
	"$(q "SELECT read, CASE WHEN rejected > 0 AND duplicates > 0 AND accepted > $N * 9 / 10
	  THEN 'yes' ELSE 'no' END FROM batch" | tr '|' ' ')"
check "clean rate: every CDR rated, test minutes used" "yes yes" \
	"$(q "SELECT CASE WHEN (SELECT count(*) FROM rating) = (SELECT count(*) FROM cdr)
	  THEN 'yes' ELSE 'no' END, CASE WHEN EXISTS (SELECT 1 FROM rating_piece WHERE kind = 'test')
	  THEN 'yes' ELSE 'no' END" | tr '|' ' ')"
check "clean issue: an invoice for each account, numbered without gaps" "$A $A 1 $A $A yes" \
	"$(q "SELECT count(*), count(DISTINCT number), min(CAST(substr(number, 7) AS INTEGER)),
	  max(CAST(substr(number, 7) AS INTEGER)), (SELECT last FROM sequence WHERE kind = 'invoice'),
	  CASE WHEN sum(payments) > 0 THEN 'yes' ELSE 'no' END FROM invoice WHERE status = 'issued'" |
	  tr '|' ' ')"
db=$T/clean-spool.db
check "clean spool ingest: every record stored once, every file done" \
	"$((per * files)) $((per * files)) $files $files" \
	"$(q -separator ' ' "SELECT count(*), count(DISTINCT record_key) FROM cdr") $(ndone \
	  "$T/clean-spool.spool/sp") $(q "SELECT count(*) FROM batch")"

# --- the kills ----------------------------------------------------------------
# rnd STAGE I: a fraction in [0, 1) drawn from the seed, the same on every awk
rnd() {
	awk -v s="$seed" -v k="$1$2" 'BEGIN {
		x = s % 2147483647; for (i = 1; i <= length(k); i++) x = (x * 31 + index("abcdefghijklmnopqrstuvwxyz0123456789", substr(k, i, 1))) % 2147483647
		for (i = 0; i < 5; i++) x = (x * 16807) % 2147483647
		printf "%.6f\n", x / 2147483647 }'
}

# kill_run STAGE I: the stage on a store prepared for it, killed at moment I
# (1..k: a random one within the I-th of k equal slices of its clean
# duration; k + 1: once its WAL is half the size the clean run's reached),
# then run again and compared with the clean run
kill_run() {
	s=$1 i=$2
	prepare "$s" "$T/kill-$s-$i.db"
	case $s in
	ingest) set -- tally-ingest --db "$db" --source sw --format asterisk \
		--tz Asia/Ho_Chi_Minh --numbering "$vn" "$T/cdrs.csv" ;;
	rate) set -- tally-rate --db "$db" ;;
	close) set -- tally-invoice --db "$db" close --period "$period" ;;
	issue) set -- tally-invoice --db "$db" issue --period "$period" ;;
	spool) set -- tally-ingest --db "$db" --source sp --format asterisk \
		--tz Asia/Ho_Chi_Minh --numbering "$vn" --spool "$spool" ;;
	esac
	if [ "$i" -le "$k" ]; then
		d=$(awk -v r="$(rnd "$s" "$i")" -v i="$i" -v k="$k" -v ms="$ms" \
			'BEGIN { printf "%d\n", (i - 1 + r) * ms / k }')
		# the program itself in the background, so that $! is its pid
		"$@" >"$T/kill.out" 2>"$T/kill.err" &
		pid=$!
		sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
		wal=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=$?
		what="seed $seed, killed at $d of $ms ms"
	else
		"$@" >"$T/kill.out" 2>"$T/kill.err" &
		pid=$!
		wal=$(walwatch kill "$pid" "$db-wal" "$walkill")
		wait "$pid" 2>/dev/null
		rc=$?
		what="killed when its WAL reached $walkill of the clean run's $walmax bytes"
	fi
	if [ "$rc" -eq 137 ]; then
		mid=$((mid + 1))
		st=$(state_"$s")
		what="$what, mid-run (WAL $wal bytes, left: $st)"
		if state_ok "$s" "$st"; then ok "$s kill $i ($what): the store is whole"; else
			not_ok "$s kill $i ($what): the store is whole" \
				"a killed run left a part of the stage" "clean run: $(cat "$T/$s.state")"
		fi
	else
		what="$what, after it had finished (exit $rc)"
	fi
	timeout "$limit" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	dump "$s" "$T/$s.kill"
	if [ "$rc" -ne 0 ]; then
		not_ok "$s kill $i ($what): rerun" "exit $rc" "$(head -c 400 "$T/err")"
	elif cmp -s "$T/$s.clean" "$T/$s.kill"; then
		ok "$s kill $i ($what): rerun gives the clean run's result ($(wc -l <"$T/$s.clean") rows)"
	else
		not_ok "$s kill $i ($what): rerun gives the clean run's result" \
			"$(diff "$T/$s.clean" "$T/$s.kill" | head -n 6 | cut -c 1-200)"
		if cp "$db" "${T%/*}/tally-kill-$s-$i.db" 2>/dev/null; then
			echo "#   store kept: ${T%/*}/tally-kill-$s-$i.db"
		fi
	fi
	rm -f "$db" "$db-wal" "$db-shm"
}

for s in ingest rate close issue spool; do
	ms=$(cat "$T/$s.ms") walmax=$(cat "$T/$s.wal")
	walkill=$((walmax / 2))
	k=$tries
	if [ $(($(now_ms) - start)) -gt $((budget * 1000)) ]; then k=1; fi
	# a hung rerun (a lock a killed run kept) fails rather than waits forever
	limit=$((ms * 10 / 1000 + 20))
	mid=0 i=1
	while [ "$i" -le "$k" ]; do
		kill_run "$s" "$i"
		i=$((i + 1))
	done
	# and in its commit, when the clean run's was long enough to be seen
	if [ "$walmax" -ge 65536 ]; then
		kill_run "$s" "$i"
	else
		echo "info: $s: its commit wrote $walmax bytes of WAL, too fast to be killed in"
		i=$((i - 1))
	fi
	if [ "$mid" -gt 0 ]; then ok "$s: $mid of $i kills landed while it ran"; else
		not_ok "$s: $mid of $i kills landed while it ran" \
			"each finished before its kill: the test proved nothing"
	fi
done
echo "info: $(($(now_ms) - start)) ms in all"

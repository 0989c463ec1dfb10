#!/bin/sh
# run.sh - the measurement matrix of README.md, each configuration REPS
# times (interleaved, so that the shared machine's noise spreads over all).
#   bench/blocks/run.sh WORKDIR [phase...]
# WORKDIR holds cdrs1m.csv, cdrs10m.csv (scripts/gen-cdrs -s 8 -a 20000
# -p 20000 -n ...) and the blocks binary; results go to WORKDIR/results.txt,
# one line per run.  Phases: matrix pack key pipe probe fileprobe big big2
# page baseline (the default: all but big2 and page, in that order).
set -eu
W=$1
shift
REPS=${REPS:-3}
B=${BIN:-$W/blocks}
out=$W/results.txt
run() {
	rm -rf "$W/store"
	"$B" -d "$W/store" "$@" 2>/dev/null >>"$out" || echo "FAILED: $*" >>"$out"
	rm -rf "$W/store"
}
for phase in "${@:-matrix pack key pipe probe fileprobe big baseline}"; do
for p in $phase; do
case $p in
matrix)	# layout x compression x block size, packed widths, 1M, one thread
	for r in $(seq "$REPS"); do
		for l in blob file; do for c in none lz4 zstd1 zstd3; do for b in 64 256 1024; do
			run -i "$W/cdrs1m.csv" -l $l -c $c -b $b -w -x
		done; done; done
	done ;;
pack)	# natural widths (no frame of reference), 256 KiB
	for r in $(seq "$REPS"); do
		for l in blob file; do for c in none lz4 zstd1; do
			run -i "$W/cdrs1m.csv" -l $l -c $c -b 256 -x
		done; done
	done ;;
key)	# tally's real Asterisk key (~110 bytes) instead of a 40-60 byte one
	for r in $(seq "$REPS"); do
		for c in none lz4 zstd1; do
			run -i "$W/cdrs1m.csv" -l blob -c $c -b 256 -w -k full -x
		done
	done ;;
pipe)	# parse thread + store thread
	for r in $(seq "$REPS"); do
		for t in 1 2; do for l in blob file; do for c in none lz4 zstd1; do
			run -i "$W/cdrs1m.csv" -l $l -c $c -b 256 -w -t $t -x
		done; done; done
	done ;;
probe)	# the duplicate index's probes at 1M
	for r in $(seq "$REPS"); do
		for c in lz4 zstd1; do
			run -i "$W/cdrs1m.csv" -l blob -c $c -b 256 -w -t 2
		done
	done ;;
big)	# 10M
	for r in $(seq "$REPS"); do
		for c in lz4 zstd1; do
			run -i "$W/cdrs10m.csv" -l blob -c $c -b 256 -w -t 2
		done
		run -i "$W/cdrs10m.csv" -l file -c zstd1 -b 256 -w -t 2 -x
	done ;;
big2)	# 10M again with the re-sent-file probe, and the file layout's probes
	for r in $(seq 2); do
		run -i "$W/cdrs10m.csv" -l blob -c zstd1 -b 256 -w -t 2
		run -i "$W/cdrs10m.csv" -l file -c zstd1 -b 256 -w -t 2
	done
	run -i "$W/cdrs10m.csv" -l blob -c lz4 -b 256 -w -t 2 -x ;;
fileprobe)	# the duplicate index's probes at 1M, file layout
	for r in $(seq "$REPS"); do
		run -i "$W/cdrs1m.csv" -l file -c zstd1 -b 256 -w -t 2
	done ;;
page)	# BLOBs with 64 KiB SQLite pages (shorter overflow chains)
	for r in $(seq "$REPS"); do
		for c in lz4 zstd1; do
			run -i "$W/cdrs1m.csv" -l blob -c $c -b 256 -w -p 65536 -x
		done
	done ;;
baseline)	# the SQL baseline of scripts/bench, 1M
	top=$(cd "$(dirname "$0")/../.." && pwd)
	for r in $(seq "$REPS"); do
		d=$(mktemp -d "$W/base.XXXXXX")
		ln -s "$W/cdrs1m.csv" "$d/cdrs.csv"
		cp "$W/rates.csv" "$d/rates.csv"
		(cd "$d" && /usr/bin/time -f '%e' -o t1 sqlite3 base.db ".read $top/bench/baseline-import.sql" >/dev/null 2>&1 &&
		 /usr/bin/time -f '%e' -o t2 sqlite3 base.db ".read $top/bench/baseline-rate.sql" >/dev/null 2>&1)
		echo "baseline import_s=$(cat "$d/t1") rate_s=$(cat "$d/t2")" >>"$out"
		rm -rf "$d"
	done ;;
esac
done
done

# make install honours PREFIX and DESTDIR.
. tests/cli/lib.sh

san=
case $TALLY_BIN in */build-san/bin) san=1 ;; esac
make -s install SANITIZE=$san PREFIX=/opt/tally DESTDIR="$T/root" >"$T/out" 2>&1
check "make install exits 0" 0 "$?"
for f in bin/tally-ingest bin/tally-report share/man/man1/tally-ingest.1 \
    share/man/man5/tally-cdr.5 share/man/man7/tally.7 share/tally/numbering/vn.csv; do
	check "installs /opt/tally/$f" yes "$([ -e "$T/root/opt/tally/$f" ] && echo yes || echo no)"
done
run 0 "installed program runs" "$T/root/opt/tally/bin/tally-ingest" --version

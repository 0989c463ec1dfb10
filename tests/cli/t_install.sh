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
for f in bin/tally-nightly share/man/man8/tally-nightly.8 share/tally/fonts/tally-sans.ttf \
    share/tally/fonts/tally-cjk.ttf share/tally/fonts/tally-cjk-ext.ttf \
    share/tally/nightly.conf.example; do
	check "installs /opt/tally/$f" yes "$([ -e "$T/root/opt/tally/$f" ] && echo yes || echo no)"
done
# The installed tally-export finds its installed fonts (PREFIX/share/tally/fonts).
tally-tariff load tariffs/cn-400 >/dev/null 2>&1
tally-ingest --source sh-fs --format freeswitch --tz Asia/Shanghai \
	--numbering tariffs/numbering/cn.csv samples/freeswitch >/dev/null 2>&1
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 >/dev/null 2>&1
tally-invoice issue --period 2026-11 >/dev/null 2>&1
run 0 "installed tally-export writes PDF with the installed fonts" \
	env -u TALLY_FONT_DIR "$T/root/opt/tally/bin/tally-export" --period 2026-11 --format pdf \
	--out "$T/pdf"
check "... the Chinese customer's name reads back" "1" \
	"$(pdftotext -q "$T/pdf/qiaohao-400-000003.pdf" - | grep -c '^上海办公室$')"

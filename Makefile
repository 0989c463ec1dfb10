# tally: batch CDR rating and invoicing.
#
#   make                 build libtally.a and the programs into build/
#   make test            bootstrap missing packages, build, run every test, then
#                        run them all again under ASan+UBSan (build-san/), then
#                        each fuzz harness for 10 s (build-fuzz/)
#   make test SANITIZE=1 only the sanitizer run
#   make demo            ingest every bundled sample and print the reconciliation
#   make bench           tally beside the SQL baseline on 1M generated CDRs
#                        (BENCH_N=...), written to bench/RESULTS.md
#   make fuzz            each libFuzzer harness of tests/fuzz/ for FUZZ_SECONDS
#                        (default 60) under ASan+UBSan, built into build-fuzz/
#   make install         PREFIX=/usr/local DESTDIR=
.SUFFIXES:

VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
DATADIR  = $(PREFIX)/share/tally

CC      ?= cc
PKGS     = sqlite3 libpcre2-8 nettle xlsxwriter zlib jansson libmicrohttpd
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wformat=2 -Wvla
CPPFLAGS_ALL = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude \
	-DTALLY_VERSION='"$(VERSION)"' -DTALLY_FONTDIR='"$(DATADIR)/fonts"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS     = -lcsv -lhpdf -lpthread $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
B        = build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
B        = build
SANFLAGS =
endif

LIB_SRC  = $(wildcard src/lib/*.c)
LIB_OBJ  = $(LIB_SRC:src/lib/%.c=$(B)/obj/%.o)
CMD_SRC  = $(wildcard src/cmd/*.c)
PROGS    = $(CMD_SRC:src/cmd/%.c=$(B)/bin/%)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
MANS     = $(wildcard man/man*/*.[1-8])

FONTS    = $(B)/fonts/tally-sans.ttf $(B)/fonts/tally-cjk.ttf $(B)/fonts/tally-cjk-ext.ttf

all: $(PROGS) $(FONTS)

# The PDF fonts, reduced to what invoices print and with composite glyphs
# drawn out (scripts/make-font says why).  Latin, Vietnamese, Greek,
# Cyrillic, punctuation and currency signs from DejaVu Sans; CJK ideographs,
# their punctuation and full-width forms from Droid Sans Fallback, the rare
# ones in a font of their own.
$(B)/fonts/tally-sans.ttf: /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf scripts/make-font
	@mkdir -p $(@D)
	scripts/make-font $< $@ 'U+0020-007E,U+00A0-024F,U+0300-036F,U+0370-03FF,U+0400-04FF,U+1E00-1EFF,U+2000-206F,U+20A0-20BF,U+2100-215F,U+2190-21FF,U+2212,U+25A0-25FF'
$(B)/fonts/tally-cjk.ttf: /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf scripts/make-font
	@mkdir -p $(@D)
	scripts/make-font $< $@ 'U+3000-303F,U+4E00-9FFF,U+FE30-FE4F,U+FF00-FFEF'
# The rare ideographs (extension A, compatibility, radicals) and Japanese kana
# apart: pdf.c takes
# this font into a document only when its text has one.
$(B)/fonts/tally-cjk-ext.ttf: /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf scripts/make-font
	@mkdir -p $(@D)
	scripts/make-font $< $@ 'U+2E80-2FDF,U+3040-30FF,U+3400-4DBF,U+F900-FAFF' DroidSansFallbackExt

$(B)/obj/%.o: src/lib/%.c $(wildcard include/tally/*.h) $(wildcard src/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

$(B)/libtally.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(B)/bin/%: src/cmd/%.c $(B)/libtally.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(B)/libtally.a $(LIBS) $(LDFLAGS)

# The fuzz harnesses: clang's libFuzzer (make fuzz, below, builds the
# library for them with -fsanitize=fuzzer-no-link).  fuzz_ingest.c is one
# harness per CDR format.
FUZZERS  = $(FUZZ_FORMATS:%=$(B)/fuzz/ingest_%) $(B)/fuzz/tariff $(B)/fuzz/feed $(B)/fuzz/spool
FUZZ_FORMATS = asterisk freeswitch kamailio csv

$(B)/fuzz/ingest_%: tests/fuzz/fuzz_ingest.c tests/fuzz/fuzz.h $(B)/libtally.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) -DFUZZ_TOP='"$(CURDIR)"' -DFUZZ_FORMAT='"$*"' $(WARN) \
		$(CFLAGS) $(SANFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/libtally.a $(LIBS) $(LDFLAGS)

$(B)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/libtally.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) -DFUZZ_TOP='"$(CURDIR)"' $(WARN) \
		$(CFLAGS) $(SANFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/libtally.a $(LIBS) $(LDFLAGS)

$(B)/tests/%: tests/unit/%.c $(B)/libtally.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(WARN) -Wno-missing-prototypes $(CFLAGS) $(SANFLAGS) \
		-o $@ $< $(B)/libtally.a -lcriterion $(LIBS) $(LDFLAGS)

bootstrap:
	@scripts/bootstrap

test: bootstrap
	@$(MAKE) --no-print-directory check
ifneq ($(SANITIZE),1)
	@echo "== the same tests under ASan+UBSan"
	@$(MAKE) --no-print-directory check SANITIZE=1
endif
	@echo "== each fuzz harness for $(FUZZ_CI_SECONDS) s"
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)

# Criterion forks a child per test; the CLI suite drives the real programs.
# Both print a closing "N passed, N failed" summary line.
check: all units
	@fail=0; for t in $(UNITS); do $$t --jobs 2 || fail=1; done; \
	B=$(B) tests/cli/run || fail=1; \
	tests/cli/lint-man $(MANS) || fail=1; \
	exit $$fail

units: $(UNITS)

fuzzers: $(FUZZERS)

# Fuzzing: the library with clang, ASan+UBSan and libFuzzer's coverage into
# build-fuzz/ (its own objects: B= and SANFLAGS= on the command line win over
# the settings above), each harness for FUZZ_SECONDS over the seeds
# tests/fuzz/seeds makes from samples/ and tariffs/.  A crash fails the run
# and is left in build-fuzz/crashes/<harness>/.
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS = 10
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -fsanitize=fuzzer-no-link

fuzz: bootstrap
	@$(MAKE) --no-print-directory fuzzers B=build-fuzz CC=clang SANFLAGS='$(FUZZ_SAN)'
	@B=build-fuzz tests/fuzz/seeds
	@B=build-fuzz tests/fuzz/run $(FUZZ_SECONDS) $(notdir $(FUZZERS))

demo: bootstrap
	@$(MAKE) --no-print-directory all
	@B=$(B) scripts/demo

bench: bootstrap
	@$(MAKE) --no-print-directory all
	@B=$(B) scripts/bench

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/numbering
	for p in $(PROGS); do install -m 755 $$p $(DESTDIR)$(BINDIR)/; done
	install -m 755 scripts/nightly $(DESTDIR)$(BINDIR)/tally-nightly
	install -m 644 scripts/nightly.conf.example scripts/tally-feedd.service $(DESTDIR)$(DATADIR)/
	install -m 644 tariffs/numbering/*.csv $(DESTDIR)$(DATADIR)/numbering/
	mkdir -p $(DESTDIR)$(DATADIR)/fonts
	install -m 644 $(FONTS) $(DESTDIR)$(DATADIR)/fonts/
	for d in tariffs/*/; do n=$$(basename $$d); [ $$n = numbering ] && continue; \
		mkdir -p $(DESTDIR)$(DATADIR)/tariffs/$$n; \
		install -m 644 $$d*.csv $(DESTDIR)$(DATADIR)/tariffs/$$n/; done
	for m in $(MANS); do s=$${m##*.}; mkdir -p $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf build build-san build-fuzz

.PHONY: all test check units fuzzers fuzz demo bench install clean bootstrap

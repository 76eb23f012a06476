# ca-audit — build, test, demo. `make help` lists the targets.
#
# Every module under audit/ and reports/ goes into build/libcaaudit.a; the
# binary, the dataset generator and each test suite link against it.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
VERSION := 0.1.0

PKGS := sqlite3 yaml-0.1 libssl libcrypto xlsxwriter minizip jansson cairo pangocairo pangoft2 fontconfig
# Debian packages the build, the tests and the demo need (`make deps`).
DEB_PKGS := build-essential pkg-config libsqlite3-dev libyaml-dev libssl-dev libxlsxwriter-dev libminizip-dev \
	check libjansson-dev libcsv-dev libcairo2-dev libpango1.0-dev fonts-noto-cjk \
	poppler-utils tzdata openssl python3 python3-openpyxl \
	time sqlite3

CC ?= cc
WARN := -Wall -Wextra -Werror
SAN ?=
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(SAN) $(CFLAGS) \
	-DCA_AUDIT_VERSION='"$(VERSION)"' -DCA_AUDIT_DATADIR='"$(PREFIX)/share/ca-audit"' \
	-DCA_AUDIT_LIBEXECDIR='"$(PREFIX)/libexec/ca-audit"' \
	-Iaudit -Ireports -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread -lm
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

LIB_SRC := $(filter-out audit/main.c,$(wildcard audit/*.c)) $(wildcard reports/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HDRS := $(wildcard audit/*.h reports/*.h tests/*.h) $(BUILD)/store_schema.h

BIN := $(BUILD)/ca-audit
GEN := $(BUILD)/gen

.PHONY: FORCE all deps check check-sanitize fuzz demo bench install clean help

all: $(BIN) $(GEN)

help:
	@echo "make deps            install missing Debian packages (apt-get)"
	@echo "make                 build $(BIN) and the dataset generator $(GEN)"
	@echo "make check           build and run every test suite"
	@echo "make check-sanitize  the test suite under AddressSanitizer + UBSan"
	@echo "make fuzz            build the libFuzzer harnesses, run each FUZZ_SECONDS"
	@echo "make demo            generate a demo CA and run the whole pipeline on it"
	@echo "make bench           time ingest, check and reports at 1M certificates (BENCH_CERTS=N)"
	@echo "make install         install to \$$DESTDIR\$$PREFIX (default /usr/local)"
	@echo "make clean           remove build outputs"

# Installs only what is missing, so that it is quick when nothing is.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BUILD)/store_schema.h: audit/store_schema.sql
	@mkdir -p $(@D)
	@{ echo "/* generated from $< by make */"; echo "#define STORE_SCHEMA_SQL \\"; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^\(.*\)$$/\t"\1\\n" \\/' $<; echo '	""'; } > $@

# Objects are rebuilt when the flags change (another PREFIX, sanitizers).
$(BUILD)/cflags: FORCE
	@mkdir -p $(@D)
	@echo '$(ALL_CFLAGS)' | cmp -s - $@ || echo '$(ALL_CFLAGS)' > $@

$(BUILD)/%.o: %.c $(HDRS) $(BUILD)/cflags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

# Rebuilt when the list of modules changes too, so a removed module leaves
# the library.
$(BUILD)/objlist: FORCE
	@mkdir -p $(@D)
	@echo '$(LIB_OBJ)' | cmp -s - $@ || echo '$(LIB_OBJ)' > $@

$(BUILD)/libcaaudit.a: $(LIB_OBJ) $(BUILD)/objlist
	@rm -f $@
	@ar rcs $@ $(LIB_OBJ)

$(BIN): $(BUILD)/audit/main.o $(BUILD)/libcaaudit.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(GEN): $(BUILD)/fixtures/gen.o $(BUILD)/libcaaudit.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(BUILD)/libcaaudit.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/tests/testutil.o $(BUILD)/libcaaudit.a $(CHECK_LIBS) $(LDLIBS)

.SECONDARY:

# Each suite runs on its own; all run even when one fails, and the summary
# says which failed.
check: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@CA_AUDIT_BIN=$(abspath $(BIN)) CA_AUDIT_GEN=$(abspath $(GEN)) \
	  CA_AUDIT_ROOT=$(CURDIR) tests/run-suites $(TEST_BIN)

check-sanitize: deps
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(MAKE) --no-print-directory BUILD=build-san CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" check

# `make fuzz FUZZ_SECONDS=N`: builds every fuzz/fuzz_*.c harness with clang,
# libFuzzer, ASan and UBSan into FUZZ_BUILD and runs each, one after the
# other, for N seconds. The seeds under tests/fuzz/<harness>/ are copied into
# a working corpus under FUZZ_BUILD; crashes are written there too.
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_PKGS := clang libclang-rt-14-dev
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_HARNESSES := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_ARGS ?= -print_final_stats=1 -rss_limit_mb=2048 -timeout=20 -max_len=65536
fuzz:
	@$(MAKE) --no-print-directory DEB_PKGS="$(FUZZ_PKGS)" deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
	  SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz/%)
	@set -e; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$h $(FUZZ_BUILD)/crashes/$$h; \
	  echo "== $$h ($(FUZZ_SECONDS) s)"; \
	  ASAN_OPTIONS=detect_leaks=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(FUZZ_BUILD)/fuzz/$$h $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$h/ \
	    $(FUZZ_BUILD)/corpus/$$h tests/fuzz/$$h; \
	done

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/fuzzutil.o $(BUILD)/libcaaudit.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

DEMO_DIR ?= demo
DEMO_CERTS ?= 20000
demo: deps
	@$(MAKE) --no-print-directory all
	@rm -rf $(DEMO_DIR)
	@CA_AUDIT_GEN=$(abspath $(GEN)) $(BIN) --no-progress demo -o $(DEMO_DIR) --certs $(DEMO_CERTS)

# `make bench`: a CA-scale benchmark (BENCHMARKS.md). The generated dataset
# is cached under BENCH_CACHE (keyed by the generator's options and binary),
# the run works in BENCH_WORK. `make bench BENCH_CERTS=100000` is quicker.
BENCH_CERTS ?= 1000000
BENCH_CACHE ?= bench/cache
BENCH_WORK ?= $(BUILD)/bench/work
BENCH_FINDINGS ?= 1000000
BENCH_PEM ?= 50000
BENCH_GEN ?= $(GEN)
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/d2i_baseline
	@BENCH_CERTS=$(BENCH_CERTS) BENCH_CACHE=$(BENCH_CACHE) BENCH_WORK=$(BENCH_WORK) \
	  BENCH_FINDINGS=$(BENCH_FINDINGS) BENCH_PEM=$(BENCH_PEM) BENCH_BIN=$(BIN) BENCH_GEN=$(BENCH_GEN) \
	  BENCH_D2I=$(BUILD)/bench/d2i_baseline CA_AUDIT_RULES=$(CURDIR)/rules sh bench/run.sh

$(BUILD)/bench/d2i_baseline: bench/d2i_baseline.c
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ca-audit/rules
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ca-audit
	install -d $(DESTDIR)$(PREFIX)/libexec/ca-audit
	install -m 755 $(GEN) $(DESTDIR)$(PREFIX)/libexec/ca-audit/ca-audit-gen
	install -m 644 rules/* $(DESTDIR)$(PREFIX)/share/ca-audit/rules/

clean:
	rm -rf build build-san build-fuzz

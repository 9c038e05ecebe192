# hive-c: non-recursive build. Each directory adds its sources and targets
# in its own Makefile.inc; this file holds the flags and the top targets.
#
#   make            build/cl-revenue-ops build/cl-hive build/hive-sim
#   make check      install missing deps, build normal + sanitizer
#                   variants, run every test; last line "N passed, N failed"
#   make demo       run the main job on the built-in simulator
#
# A sanitizer variant lives in its own tree: make BUILD=build/asan SAN=1

BUILD ?= build
SAN ?=
CC ?= gcc

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS := -std=c11 -D_GNU_SOURCE -g -I. $(WARN) -MMD -MP
LDLIBS :=
ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
CFLAGS += -O2
endif

LIB_JSON := -ljansson
LIB_SQL := -lsqlite3
LIB_CRYPTO := -lsecp256k1 -lsodium
LIB_MHD := -lmicrohttpd

# Filled in by the Makefile.inc files.
BINS :=
UNIT_TESTS :=
ALL_OBJS :=

.PHONY: all check demo deps clean lint bench format
all: bins

include common/Makefile.inc
include engine/Makefile.inc
include plugins/revenue-ops/Makefile.inc
include plugins/hive/Makefile.inc
include sim/Makefile.inc
include bench/Makefile.inc
include tests/Makefile.inc

bins: $(BINS)

# V=1 shows full command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

deps:
	@scripts/install-deps

# Everything the test runner needs, in one variant.
testbins: $(BINS) $(UNIT_TESTS)

check:
	@scripts/install-deps
	@$(MAKE) --no-print-directory BUILD=build testbins
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 testbins
	@tests/run-all

demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory BUILD=build bins
	@scripts/demo

lint:
	@scripts/check-layering

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(ALL_OBJS:.o=.d)

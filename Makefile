# SPDX-License-Identifier: GPL-2.0-or-later
# ftpalg: the only build entry point. Sources are found by directory, so a new
# file under src/<part>/ or tests/<part>/ needs no edit here.
#
#   make            build/ftpalgd and build/ftpalg-replay
#   make check      install missing Debian packages, build, run every test
#                   (unit, adapter, golden, namespace end-to-end)
#   make demo       namespace lab: active + passive transfer through ftpalgd
#   make golden-update   rewrite pcaps/*.golden from the current engine
#   make asan       unit + golden tests under ASan + UBSan

CXX      ?= g++
BUILD    ?= build
WARN      = -Wall -Wextra -Wpedantic -Wshadow -Werror
OPT      ?= -O2 -g
CXXFLAGS += -std=c++20 $(OPT) $(WARN) -MMD -MP -Iinclude -Isrc -I.
LDFLAGS  ?=

# Only adapters, replay and the daemon see the C libraries' headers: the pure
# core is compiled without them, so an accidental include fails the build.
PKGS      = libmnl libnetfilter_queue libpcap
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz
GTEST_LIBS = $(shell pkg-config --libs gtest gmock 2>/dev/null || echo -lgtest -lgmock) -lpthread

CORE_SRCS    := $(wildcard src/core/*.cc)
ADAPTER_SRCS := $(wildcard src/adapters/*.cc)
APP_SRCS     := $(filter-out %/main.cc,$(wildcard src/replay/*.cc src/daemon/*.cc))
TEST_SRCS    := $(wildcard tests/core/*.cc tests/adapters/*.cc tests/replay/*.cc \
                  tests/daemon/*.cc tests/golden/*.cc tests/support/*.cc)

CORE_OBJS    := $(CORE_SRCS:%.cc=$(BUILD)/%.o)
ADAPTER_OBJS := $(ADAPTER_SRCS:%.cc=$(BUILD)/%.o)
APP_OBJS     := $(APP_SRCS:%.cc=$(BUILD)/%.o)
TEST_OBJS    := $(TEST_SRCS:%.cc=$(BUILD)/%.o)

CORE_LIB := $(BUILD)/libftpalg_core.a
IO_LIB   := $(BUILD)/libftpalg_io.a
TEST_BIN := $(BUILD)/tests/ftpalg_tests

.PHONY: all check deps unit golden e2e demo golden-update asan clean bench fuzz
all: $(BUILD)/ftpalgd $(BUILD)/ftpalg-replay

$(BUILD)/src/core/%.o: src/core/%.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(IO_LIB): $(ADAPTER_OBJS) $(APP_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/ftpalgd: $(BUILD)/src/daemon/main.o $(IO_LIB) $(CORE_LIB)
	$(CXX) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/ftpalg-replay: $(BUILD)/src/replay/main.o $(IO_LIB) $(CORE_LIB)
	$(CXX) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(TEST_BIN): $(TEST_OBJS) $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(GTEST_LIBS) -lgtest_main

deps:
	@scripts/install-deps.sh --e2e

# Unit, adapter and golden tests run from the repository root so pcaps/ resolves.
unit: $(TEST_BIN) all
	TZ=UTC LC_ALL=C $(TEST_BIN) --gtest_brief=1

e2e: all
	tests/e2e/run_all.sh

check: deps
	$(MAKE) all $(TEST_BIN)
	$(MAKE) unit
	$(MAKE) e2e

demo: deps
	$(MAKE) all
	scripts/demo.sh

golden-update: $(TEST_BIN)
	FTPALG_UPDATE_GOLDEN=1 TZ=UTC LC_ALL=C $(TEST_BIN) --gtest_filter='Golden*' --gtest_brief=1
	@git diff --stat pcaps/ || true

asan:
	$(MAKE) BUILD=build-asan OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	  LDFLAGS='-fsanitize=address,undefined' build-asan/tests/ftpalg_tests
	TZ=UTC LC_ALL=C build-asan/tests/ftpalg_tests --gtest_brief=1

clean:
	rm -rf build build-asan

-include $(CORE_OBJS:.o=.d) $(ADAPTER_OBJS:.o=.d) $(APP_OBJS:.o=.d) $(TEST_OBJS:.o=.d)

# In-process fuzz targets (fuzz/fuzz_*.c, each an LLVMFuzzerTestOneInput),
# fuzz/README.md says what each takes.
#
#   every build     $(BUILD)/fuzz-replay/fuzz_T: the target with
#                   fuzz/driver_main.c (no engine): runs it over files and
#                   directories; make check replays corpus/seeds and
#                   corpus/regressions with them, sanitized
#   make fuzz       build/fuzz/fuzz_T: clang -fsanitize=fuzzer,address,undefined
#   make fuzz-afl   build/fuzz-afl/fuzz_T (+ build/fuzz-afl-cmplog/): afl-clang-fast,
#                   then afl-fuzz on one target (FUZZ_TARGET, AFL_SECONDS)
#   make fuzz-ci    the CI fuzz job (fuzz/fuzz-ci.sh): FUZZ_SECONDS per target
#   make corpus     build/corpus/T: seeds from the scenarios and the spec,
#                   and build/corpus/T.dict
FUZZ_TARGETS := decode server_session client caps scn trace
FUZZ_SUPPORT_SRCS := fuzz/fuzz_fds.c fuzz/session_driver.c fuzz/session_refserver.c
FUZZ_SUPPORT_OBJS := $(FUZZ_SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
FUZZ_SUPPORT_LIB := $(BUILD)/libvfufuzz.a
# archives only: each target pulls in what it uses
FUZZ_LIBS := $(FUZZ_SUPPORT_LIB) $(BUILD)/libvfuharness.a $(BUILD)/libvfureport.a \
	$(BUILD)/libvfuclient.a $(BUILD)/libvfusrv.a $(BUILD)/libtoydev.a $(LIB)
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/fuzz-replay/fuzz_%)
# how an engine build links (make fuzz, fuzz-afl, .clusterfuzzlite/build.sh)
FUZZ_ENGINE ?= -fsanitize=fuzzer
FUZZ_LD ?= $(CC)
FUZZ_SECONDS ?= 60

all: $(FUZZ_REPLAY)

$(BUILD)/obj/fuzz/%.o $(BUILD)/obj/tests/test_fuzz%.o: CPPFLAGS += -Ifuzz -Iservers -Iclients -Iharness

# make fuzz: the driver's own bookkeeping gets no coverage instrumentation
# (its edges say nothing about the code under test and cost every run)
$(FUZZ_SUPPORT_OBJS): CFLAGS += $(FUZZ_NOCOV)

$(FUZZ_SUPPORT_LIB): $(FUZZ_SUPPORT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz-replay/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/driver_main.o $(FUZZ_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(BUILD)/obj/fuzz/driver_main.o $(FUZZ_LIBS) $(LIB_LDLIBS)

# engine builds: the target with the engine's main instead of ours.  With
# FUZZ_CUSTOM_MUTATOR=1 (libFuzzer builds: make fuzz, ClusterFuzzLite), the
# session targets get the spec-aware mutator (fuzz/mutator_libfuzzer.c)
# linked in; AFL++ loads the same mutator as a library instead
FUZZ_SESSION_TARGETS := server_session client
FUZZ_MUT_LINK = $(if $(filter 1,$(FUZZ_CUSTOM_MUTATOR)),$(if $(filter $*,$(FUZZ_SESSION_TARGETS)),$(FUZZ_MUTATOR_OBJ)))
$(FUZZ_MUTATOR_OBJ): CFLAGS += $(FUZZ_NOCOV)
.SECONDEXPANSION:
$(BUILD)/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_LIBS) $$(FUZZ_MUT_LINK)
	$(FUZZ_LD) $(LDFLAGS) $(FUZZ_ENGINE) -pthread -o $@ $< $(FUZZ_MUT_LINK) $(FUZZ_LIBS) $(LIB_LDLIBS)

fuzz-engine-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

# unit test of the session format links the fuzz support archive
$(BUILD)/tests/test_fuzz%: $(BUILD)/obj/tests/test_fuzz%.o $(FUZZ_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(FUZZ_LIBS) $(LIB_LDLIBS) -lcmocka

# make check: every checked-in seed and regression input replays, sanitized
TESTS += $(BUILD)/tests/fuzz_replay
$(BUILD)/tests/fuzz_replay: tests/test_fuzz_replay.sh $(FUZZ_REPLAY)
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/test_fuzz_replay.sh)' '$(abspath $(BUILD)/fuzz-replay)' '$(abspath corpus)' '$(FUZZ_TARGETS)' >$@
	chmod +x $@

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
.PHONY: fuzz fuzz-afl fuzz-ci corpus fuzz-engine-bins
# flags go in through the environment, so that the Makefile's own
# (-std=c11 -Wall -Werror ...) are still added to them
fuzz:
	CFLAGS='-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)' LDFLAGS='$(FUZZ_SAN)' \
	  $(MAKE) BUILD=build/fuzz CC=clang SANITIZE=0 FUZZ_ENGINE=-fsanitize=fuzzer FUZZ_CUSTOM_MUTATOR=1 \
	  FUZZ_NOCOV=-fno-sanitize-coverage=inline-8bit-counters,indirect-calls,trace-cmp,pc-table \
	  fuzz-engine-bins

# AFL++: plain and cmplog builds (afl-fuzz -c), linked with AFL++'s
# libFuzzer-compatible driver
AFL_CC ?= afl-clang-fast
AFL_SECONDS ?= 60
FUZZ_TARGET ?= server_session
fuzz-afl-build:
	CFLAGS='-O1 -g $(FUZZ_SAN)' LDFLAGS='$(FUZZ_SAN)' \
	  $(MAKE) BUILD=build/fuzz-afl CC=$(AFL_CC) SANITIZE=0 FUZZ_ENGINE=-fsanitize=fuzzer fuzz-engine-bins
	CFLAGS='-O1 -g' LDFLAGS= AFL_LLVM_CMPLOG=1 \
	  $(MAKE) BUILD=build/fuzz-afl-cmplog CC=$(AFL_CC) SANITIZE=0 FUZZ_ENGINE=-fsanitize=fuzzer fuzz-engine-bins
# with the spec-aware mutator (fuzz/mutator.mk) as AFL++'s custom mutator
fuzz-afl: fuzz-afl-build $(MUT_AFL_SO)
	AFL_MUTATOR=$(abspath $(MUT_AFL_SO)) sh fuzz/fuzz-afl.sh $(FUZZ_TARGET) $(AFL_SECONDS)

fuzz-ci:
	sh fuzz/fuzz-ci.sh $(FUZZ_SECONDS)

# make fuzz-cov FUZZ_COV_CORPUS="corpus/seeds build/corpus DIR...": lines and
# branches of servers/ lib/ clients/ harness/ that the corpus reaches
# (fuzz/fuzz-cov.sh; gcc --coverage build in build/fuzz-cov)
FUZZ_COV_CORPUS ?= corpus/seeds corpus/regressions build/corpus
.PHONY: fuzz-cov
fuzz-cov:
	CFLAGS='-O0 -g --coverage' LDFLAGS='--coverage' $(MAKE) BUILD=build/fuzz-cov CC=gcc SANITIZE=0 \
	  $(FUZZ_TARGETS:%=build/fuzz-cov/fuzz-replay/fuzz_%)
	sh fuzz/fuzz-cov.sh build/fuzz-cov "$(FUZZ_TARGETS)" $(FUZZ_COV_CORPUS)

CORPUS_OUT ?= build/corpus
corpus: $(BUILD)/vfu-corpus $(BUILD)/vfu-conform $(BUILD)/vfu-refserver
	sh fuzz/make-corpus.sh $(BUILD) $(CORPUS_OUT)

# make check: the ClusterFuzzLite build.sh under the contract's variables
TESTS += $(BUILD)/tests/cflite
$(BUILD)/tests/cflite: tests/test_cflite.sh .clusterfuzzlite/build.sh
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s\n' '$(abspath tests/test_cflite.sh)' >$@
	chmod +x $@

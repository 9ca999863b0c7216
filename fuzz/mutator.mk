# The spec-aware mutator's engine glue (lib/runtime/mutate.h is in the runtime):
#
#   $(BUILD)/obj/fuzz/mutator_libfuzzer.o
#                 LLVMFuzzerCustomMutator / LLVMFuzzerCustomCrossOver; link
#                 it into a session target (fuzz/mutator_hook.h: role, device)
#   $(BUILD)/fuzz/libvfu-mutator-afl.so
#                 the AFL++ custom mutator library:
#                 AFL_CUSTOM_MUTATOR_LIBRARY=$(BUILD)/fuzz/libvfu-mutator-afl.so
#   make bench-fuzz
#                 mutations/s against plain byte mutation, and edges reached
#                 by a session target with and without the mutator
#                 (bench/bench_fuzz.sh; BENCH_FUZZ_SECONDS per run, default 60)
FUZZ_MUTATOR_OBJ := $(BUILD)/obj/fuzz/mutator_libfuzzer.o
MUT_AFL_SO := $(BUILD)/fuzz/libvfu-mutator-afl.so
# the mutator's part of the runtime and the whole protocol core (a layer,
# not a list of its files to keep up), compiled position-independent with
# only the afl_custom_* names visible, so that nothing in the library can
# stand in for a symbol of afl-fuzz or of another library it loads
MUT_PIC_SRCS := $(wildcard lib/runtime/mutate*.c) lib/runtime/fuzz_session.c $(wildcard lib/core/*.c) fuzz/mutator_afl.c
MUT_PIC_OBJS := $(MUT_PIC_SRCS:%.c=$(BUILD)/obj-pic/%.o) $(BUILD)/obj-pic/gen/vfu_proto.o

all: $(FUZZ_MUTATOR_OBJ) $(MUT_AFL_SO)

$(BUILD)/obj/fuzz/mutator_libfuzzer.o $(BUILD)/obj-pic/fuzz/mutator_afl.o: CPPFLAGS += -Ifuzz

$(BUILD)/obj-pic/%.o: %.c $(BUILD)/gen/vfu_proto.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<
$(BUILD)/obj-pic/gen/vfu_proto.o: $(BUILD)/gen/vfu_proto.c $(BUILD)/gen/vfu_proto.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

# --no-undefined: a runtime file missing from the list fails here, not at
# dlopen; sanitized, the runtime comes from the program that loads it
MUT_SO_DEFS := $(if $(filter 1,$(SANITIZE)),,-Wl,--no-undefined)
$(MUT_AFL_SO): $(MUT_PIC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared $(MUT_SO_DEFS) -o $@ $^ $(LIB_LDLIBS)

# the glue, tested: libFuzzer hooks linked in, the AFL++ library dlopen()ed
$(BUILD)/obj/tests/test_mutator_glue.o: CPPFLAGS += -Ifuzz -DMUT_AFL_SO='"$(abspath $(MUT_AFL_SO))"'
$(BUILD)/tests/test_mutator_glue: $(BUILD)/obj/tests/test_mutator_glue.o $(FUZZ_MUTATOR_OBJ) $(LIB) $(MUT_AFL_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(FUZZ_MUTATOR_OBJ) $(LIB) $(LIB_LDLIBS) -lcmocka -ldl

# ---- make bench-fuzz ----
# mutations/s: an ordinary -O2 program, in make bench too
BENCHES += $(BUILD)/bench/bench_mutate
$(BUILD)/bench/bench_mutate: $(BUILD)/obj/bench/bench_mutate.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS)

# the session target for the coverage comparison: clang, libFuzzer, no
# sanitizer (coverage, not bugs, is measured), built twice in its own tree:
# with the custom mutator linked in and without
BENCH_FUZZ_BUILD := build/bench-fuzz
BENCH_FUZZ_SECONDS ?= 60
BF_LIBS = $(FUZZ_SUPPORT_LIB) $(BUILD)/libvfusrv.a $(BUILD)/libtoydev.a $(LIB)
$(BUILD)/obj/bench/fuzz_session_min.o: CPPFLAGS += -Iservers -Ifuzz
$(BUILD)/bench/fuzz_session_plain: $(BUILD)/obj/bench/fuzz_session_min.o $(BF_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(BF_LIBS) $(LIB_LDLIBS)
$(BUILD)/bench/fuzz_session_mut: $(BUILD)/obj/bench/fuzz_session_min.o $(FUZZ_MUTATOR_OBJ) $(BF_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_MUTATOR_OBJ) $(BF_LIBS) $(LIB_LDLIBS)
bench-fuzz-bins: $(BUILD)/bench/fuzz_session_plain $(BUILD)/bench/fuzz_session_mut

.PHONY: bench-fuzz bench-fuzz-bins
bench-fuzz: $(BUILD)/bench/bench_mutate
	CFLAGS='-O2 -g -fsanitize=fuzzer-no-link' $(MAKE) BUILD=$(BENCH_FUZZ_BUILD) CC=clang SANITIZE=0 bench-fuzz-bins
	sh bench/bench_fuzz.sh $(BUILD)/bench/bench_mutate $(BENCH_FUZZ_BUILD)/bench $(BENCH_FUZZ_SECONDS)

# vfu-fuzz: the socket fuzzer (fuzz/vfu_fuzz*.c), on the scripted client,
# the replay of libvfureport.a and the runtime; it mutates with the shared
# spec-aware mutator of lib/runtime/mutate.h, as the in-process targets do.
VFUFUZZ_BIN := $(BUILD)/vfu-fuzz
VFUFUZZ_SRCS := $(wildcard fuzz/vfu_fuzz*.c)
VFUFUZZ_OBJS := $(VFUFUZZ_SRCS:%.c=$(BUILD)/obj/%.o)
# --client serves with the reference server (servers/srv.h) in-process
VFUFUZZ_LIBS := $(BUILD)/libvfureport.a $(BUILD)/libvfuclient.a $(BUILD)/libvfusrv.a $(BUILD)/libtoydev.a $(LIB)

PROGRAMS += $(VFUFUZZ_BIN)
TESTS += $(BUILD)/tests/vfufuzz_cli

$(VFUFUZZ_OBJS): CPPFLAGS += -Ifuzz -Iclients -Iharness -Iservers
# the seeds a run starts from unless --no-bundled-seeds (fz_seed_bundled)
$(BUILD)/obj/fuzz/vfu_fuzz_seed.o: CPPFLAGS += -DFZ_BUNDLED_SEEDS='"$(abspath corpus/seeds)"' \
	-DFZ_GENERATED_SEEDS='"$(abspath $(CORPUS_OUT))"'

$(VFUFUZZ_BIN): $(VFUFUZZ_OBJS) $(VFUFUZZ_LIBS)
	$(CC) $(LDFLAGS) -pthread -o $@ $(VFUFUZZ_OBJS) $(VFUFUZZ_LIBS) $(LIB_LDLIBS)

# the program from the shell against the reference server: seeded crash and
# hang faults found, minimized and replayed; the clean server gives nothing
$(BUILD)/tests/vfufuzz_cli: tests/vfufuzz_cli.sh $(VFUFUZZ_BIN) $(BUILD)/vfu-refserver $(BUILD)/vfu-conform
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/vfufuzz_cli.sh)' '$(abspath $(VFUFUZZ_BIN))' '$(abspath $(BUILD)/vfu-refserver)' '$(abspath $(BUILD)/vfu-conform)' >$@
	chmod +x $@

# vfu-fuzz --client against a client with a planted bug (found, minimized,
# reproduced) and against vfu-client (nothing found); built on the client
# library without sanitizers, so that its abort reaches us as the signal
FRAGILE_CLIENT := $(BUILD)/tests/helpers/fragile-client
$(FRAGILE_CLIENT): tests/helpers/fragile_client.c $(CLIENT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iclients $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLIENT_LIB) $(LIB) $(LIB_LDLIBS)
TESTS += $(BUILD)/tests/vfufuzz_client
$(BUILD)/tests/vfufuzz_client: tests/vfufuzz_client.sh $(VFUFUZZ_BIN) $(VFU_CLIENT_BIN) $(FRAGILE_CLIENT)
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/vfufuzz_client.sh)' '$(abspath $(VFUFUZZ_BIN))' '$(abspath $(VFU_CLIENT_BIN))' '$(abspath $(FRAGILE_CLIENT))' >$@
	chmod +x $@

# make bench-vfufuzz: sessions/s of vfu-fuzz beside the plainest client's
# (bench/bench_vfufuzz.sh; BENCH_VFUFUZZ_SECONDS each, VFU_BENCH_SERVER too)
BENCH_VFUFUZZ_SECONDS ?= 10
$(BUILD)/obj/bench/bench_sessions.o: CPPFLAGS += -Iclients
$(BUILD)/bench/bench_sessions: $(BUILD)/obj/bench/bench_sessions.o $(CLIENT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(CLIENT_LIB) $(LIB) $(LIB_LDLIBS)
.PHONY: bench-vfufuzz
bench-vfufuzz: $(BUILD)/bench/bench_sessions $(VFUFUZZ_BIN) $(BUILD)/vfu-refserver
	sh bench/bench_vfufuzz.sh $(BUILD)/bench/bench_sessions $(VFUFUZZ_BIN) $(BUILD)/vfu-refserver $(BENCH_VFUFUZZ_SECONDS)

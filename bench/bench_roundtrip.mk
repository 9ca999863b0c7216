# REGION_READ round trips of the reference server (and of VFU_BENCH_SERVER,
# if set) next to the socketpair ping-pong limit of the same run.
BENCHES += $(BUILD)/bench/bench_roundtrip

$(BUILD)/obj/bench/bench_roundtrip.o: CPPFLAGS += -DSRV_BIN='"$(abspath $(BUILD))/vfu-refserver"'

$(BUILD)/bench/bench_roundtrip: $(BUILD)/obj/bench/bench_roundtrip.o $(LIB) $(BUILD)/vfu-refserver
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(LIB) $(LIB_LDLIBS)

# Benchmarks: `make bench` builds and runs each one in $(BUILD) (not
# sanitized; -O2 whatever CFLAGS says, as figures from -O0 mislead).
BENCHES += $(BUILD)/bench/bench_codec

$(BUILD)/obj/bench/%.o: CFLAGS += -O2

$(BUILD)/bench/bench_codec: $(BUILD)/obj/bench/bench_codec.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS)

# Benchmark of the reference server: DMA throughput through each DMA
# path.  Run with `make bench`.
BENCHES += $(BUILD)/bench/bench_server

$(BUILD)/obj/bench/bench_server.o: CPPFLAGS += -Iservers -DSRV_BIN='"$(BUILD)/vfu-refserver"'

$(BUILD)/bench/bench_server: $(BUILD)/obj/bench/bench_server.o $(LIB) $(BUILD)/vfu-refserver
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS)

# Codec tests share a table of valid messages (tests/codec_cases.c); each
# test_codec_* program links it in besides the runtime.
CODEC_TEST_SRCS := $(wildcard tests/test_codec_*.c)
CODEC_TESTS := $(CODEC_TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

$(CODEC_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/obj/tests/codec_cases.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIB_LDLIBS) -lcmocka

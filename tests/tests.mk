# Unit tests: tests/test_*.c, each a cmocka program linked with the runtime.
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS += $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS) -lcmocka

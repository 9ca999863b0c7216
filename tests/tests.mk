# Unit tests: tests/test_*.c, each a cmocka program linked with the runtime.
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS += $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS) -lcmocka

# the runner of all of the above
TESTS += $(BUILD)/tests/run_tests_self
$(BUILD)/tests/run_tests_self: tests/run_tests_self.sh tests/run-tests.sh
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s\n' '$(abspath tests/run_tests_self.sh)' '$(abspath tests/run-tests.sh)' >$@
	chmod +x $@

# lib/'s layers kept (tests/lib_layers.sh reads the archives and headers)
TESTS += $(BUILD)/tests/lib_layers
$(BUILD)/tests/lib_layers: tests/lib_layers.sh $(LIB) $(BUILD)/libvfuclient.a
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s\n' '$(abspath tests/lib_layers.sh)' '$(abspath .)' '$(abspath $(BUILD))' >$@
	chmod +x $@

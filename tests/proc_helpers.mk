# Helper programs for the process-supervision tests (tests/test_proc*.c).
# The fake server stands in for an external program, so it is built without
# sanitizers whatever SANITIZE says: a crash it is asked for must reach us as
# the signal, not as a sanitizer report and exit status.
PROC_HELPER_DIR := $(BUILD)/tests/helpers
PROC_HELPERS := $(PROC_HELPER_DIR)/fake-server
PROC_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_proc*.c))

$(PROC_HELPER_DIR)/fake-server: tests/helpers/fake_server.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -o $@ $<

$(PROC_TESTS): $(PROC_HELPERS)
$(PROC_TESTS:$(BUILD)/tests/%=$(BUILD)/obj/tests/%.o): CPPFLAGS += -DHELPER_DIR=\"$(abspath $(PROC_HELPER_DIR))\"

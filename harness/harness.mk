# vfu-conform: the scenario loader (harness/scn_*.c), the runner
# (harness/runner*.c) and the program (harness/vfu_conform.c), with the
# scripted client (libvfuclient.a) underneath.  Tests: tests/test_scn*.c
# (loader) and tests/test_conform*.c (the program against vfu-refserver
# and against the hostile fake servers of tests/helpers/hostile_*.c).
# (harness/result.c, report*.c and replay*.c belong to report.mk's archive)
HARNESS_SRCS := $(wildcard harness/scn_*.c harness/runner*.c harness/gen*.c harness/cj*.c)
HARNESS_OBJS := $(HARNESS_SRCS:%.c=$(BUILD)/obj/%.o)
HARNESS_LIB := $(BUILD)/libvfuharness.a
CONFORM_BIN := $(BUILD)/vfu-conform
# clients.mk names the same archive; repeated here because the order in
# which the .mk files are read is not ours to choose
HARNESS_CLIENT_LIB := $(BUILD)/libvfuclient.a
HARNESS_REPORT_LIB := $(BUILD)/libvfureport.a

all: $(HARNESS_LIB)

PROGRAMS += $(CONFORM_BIN)
TESTS += $(BUILD)/tests/conform_cli

$(HARNESS_OBJS) $(BUILD)/obj/harness/vfu_conform.o: CPPFLAGS += -Iharness -Iclients -Iservers
$(BUILD)/obj/tests/test_scn%.o $(BUILD)/obj/tests/test_conform%.o: CPPFLAGS += -Iharness -Iclients

$(HARNESS_LIB): $(HARNESS_OBJS)
	@rm -f $@
	ar rcs $@ $^

# --client serves the client under test with the reference server in a thread
HARNESS_SRV_LIBS := $(BUILD)/libvfusrv.a $(BUILD)/libtoydev.a
$(CONFORM_BIN): $(BUILD)/obj/harness/vfu_conform.o $(HARNESS_LIB) $(HARNESS_REPORT_LIB) $(HARNESS_CLIENT_LIB) $(HARNESS_SRV_LIBS) $(LIB)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(HARNESS_LIB) $(HARNESS_REPORT_LIB) $(HARNESS_CLIENT_LIB) $(HARNESS_SRV_LIBS) $(LIB) $(LIB_LDLIBS)

$(BUILD)/tests/test_scn%: $(BUILD)/obj/tests/test_scn%.o $(HARNESS_LIB) $(HARNESS_REPORT_LIB) $(HARNESS_CLIENT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(HARNESS_LIB) $(HARNESS_REPORT_LIB) $(HARNESS_CLIENT_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

# the runner's tests start the reference server and read the bundled scenarios
HARNESS_REFSERVER := $(BUILD)/vfu-refserver
$(BUILD)/obj/tests/test_conform%.o: CPPFLAGS += -DSRV_BIN='"$(abspath $(HARNESS_REFSERVER))"' -DSCN_DIR='"$(abspath harness/scenarios)"'
$(BUILD)/tests/test_conform%: $(BUILD)/obj/tests/test_conform%.o $(HARNESS_LIB) $(HARNESS_REPORT_LIB) $(HARNESS_CLIENT_LIB) $(LIB) $(HARNESS_REFSERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(HARNESS_LIB) $(HARNESS_REPORT_LIB) $(HARNESS_CLIENT_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

# Hostile fake servers for tests/test_conform_hostile.c.  Built without
# sanitizers whatever SANITIZE says (a crash it is asked for must reach the
# supervisor as the signal), with the codec compiled in directly.
HOSTILE_BIN := $(BUILD)/tests/helpers/hostile-server
# the whole core, unsanitized: the same sources libvfu.a is made of
HOSTILE_SRCS := tests/helpers/hostile_server.c $(wildcard lib/core/*.c) $(BUILD)/gen/vfu_proto.c
$(HOSTILE_BIN): $(HOSTILE_SRCS) $(BUILD)/gen/vfu_proto.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -Iinclude/vfu -Ilib/core -I$(BUILD)/gen -o $@ $(HOSTILE_SRCS) -ljson-c
$(BUILD)/tests/test_conform_hostile $(BUILD)/tests/test_conform_verdicts: $(HOSTILE_BIN)
$(BUILD)/obj/tests/test_conform_hostile.o $(BUILD)/obj/tests/test_conform_verdicts.o: CPPFLAGS += -DHOSTILE_BIN='"$(abspath $(HOSTILE_BIN))"'

# the program from the shell, against the reference server
$(BUILD)/tests/conform_cli: tests/conform_cli.sh $(CONFORM_BIN) $(HARNESS_REFSERVER)
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/conform_cli.sh)' '$(abspath $(CONFORM_BIN))' '$(abspath $(HARNESS_REFSERVER))' '$(abspath harness/scenarios)' >$@
	chmod +x $@

# stopped by a signal or by --max-seconds: nothing of the server under test
# left behind (tests/conform_stop.sh)
TESTS += $(BUILD)/tests/conform_stop
$(BUILD)/tests/conform_stop: tests/conform_stop.sh $(CONFORM_BIN) $(HOSTILE_BIN)
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s\n' '$(abspath tests/conform_stop.sh)' '$(abspath $(CONFORM_BIN))' '$(abspath $(HOSTILE_BIN))' >$@
	chmod +x $@

# vfu-conform --client against our scripted client and its seeded faults
TESTS += $(BUILD)/tests/conform_client
$(BUILD)/tests/conform_client: tests/conform_client.sh $(CONFORM_BIN) $(BUILD)/vfu-client
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s\n' '$(abspath tests/conform_client.sh)' '$(abspath $(CONFORM_BIN))' '$(abspath $(BUILD)/vfu-client)' >$@
	chmod +x $@

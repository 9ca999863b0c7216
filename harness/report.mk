# Reporters (human, TAP, JUnit, JSON), the result helpers and trace replay:
# $(BUILD)/libvfureport.a, for vfu-conform and the tests below.  Tests named
# tests/test_report*.c and tests/test_replay*.c link it before the runtime
# (the patterns need a non-empty stem: test_report_tap.c, not test_report.c).
REPORT_SRCS := harness/result.c $(wildcard harness/report*.c) $(wildcard harness/replay*.c)
REPORT_OBJS := $(REPORT_SRCS:%.c=$(BUILD)/obj/%.o)
REPORT_LIB := $(BUILD)/libvfureport.a

all: $(REPORT_LIB)

$(REPORT_OBJS) $(BUILD)/obj/tests/test_report%.o $(BUILD)/obj/tests/test_replay%.o: CPPFLAGS += -Iharness

$(REPORT_LIB): $(REPORT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/test_report%: $(BUILD)/obj/tests/test_report%.o $(REPORT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(REPORT_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

$(BUILD)/tests/test_replay%: $(BUILD)/obj/tests/test_replay%.o $(REPORT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(REPORT_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

# replay is checked against a real process that crashes: the helper of the
# process tests (tests/proc_helpers.mk builds it; named by its path here, as
# that file is read after this one)
$(BUILD)/tests/test_replay_run: $(BUILD)/tests/helpers/fake-server
$(BUILD)/obj/tests/test_replay_run.o: CPPFLAGS += -DHELPER_DIR=\"$(abspath $(BUILD)/tests/helpers)\"

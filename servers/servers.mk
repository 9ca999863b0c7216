# The reference vfio-user server: its protocol core and loop as a static
# archive (servers/srv_*.c, for tests and fuzzers), the program, and the rule
# that links tests/test_srv*.c against them.  A test must be named
# test_srv<something>.c: the pattern needs a non-empty stem.
SRV_SRCS := $(wildcard servers/srv_*.c)
SRV_OBJS := $(SRV_SRCS:%.c=$(BUILD)/obj/%.o)
SRV_LIB := $(BUILD)/libvfusrv.a
SRV_BIN := $(BUILD)/vfu-refserver
# toydev.mk sets it too, but is read after this file: prerequisites below
# are expanded now, and an empty one lets the link run before the archive
TOYDEV_LIB := $(BUILD)/libtoydev.a

PROGRAMS += $(SRV_BIN)
all: $(SRV_LIB)

$(SRV_LIB): $(SRV_OBJS)
	@rm -f $@
	ar rcs $@ $^

# the program needs the core and the transport only: no wire traces, so
# no libcbor (the install test checks with ldd)
$(SRV_BIN): $(BUILD)/obj/servers/main.o $(SRV_LIB) $(TOYDEV_LIB) $(TRANSPORT_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(SRV_LIB) $(TOYDEV_LIB) $(TRANSPORT_LIB) $(CORE_LIB) $(CORE_LDLIBS)

# socket-level tests start the program built beside them
$(BUILD)/obj/tests/test_srv%.o: CPPFLAGS += -Iservers -DSRV_BIN='"$(SRV_BIN)"'
# the fuzzers' regression inputs for server bugs (test_srv_seal.c keeps one)
$(BUILD)/obj/tests/test_srv%.o: CPPFLAGS += -DREGRESSION_DIR='"$(abspath corpus/regressions/server)"'

# more specific than tests/tests.mk's $(BUILD)/tests/%, so make prefers it
$(BUILD)/tests/test_srv%: $(BUILD)/obj/tests/test_srv%.o $(SRV_LIB) $(TOYDEV_LIB) $(LIB) $(SRV_BIN)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(SRV_LIB) $(TOYDEV_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

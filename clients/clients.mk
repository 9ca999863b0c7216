# The scripted vfio-user test client: $(BUILD)/libvfuclient.a (no program).
# Its tests, tests/test_client*.c, link it before the runtime.
CLIENT_SRCS := $(wildcard clients/*.c)
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(BUILD)/obj/%.o)
CLIENT_LIB := $(BUILD)/libvfuclient.a

all: $(CLIENT_LIB)

$(CLIENT_OBJS) $(BUILD)/obj/tests/test_client%.o: CPPFLAGS += -Iclients

$(CLIENT_LIB): $(CLIENT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/test_client%: $(BUILD)/obj/tests/test_client%.o $(CLIENT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(CLIENT_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

# the integration test runs the reference server built beside it (the same
# path servers/servers.mk builds; that file is read after this one)
CLIENT_REFSERVER := $(BUILD)/vfu-refserver
$(BUILD)/obj/tests/test_client_refserver.o: CPPFLAGS += -Iservers -DSRV_BIN='"$(CLIENT_REFSERVER)"'
$(BUILD)/tests/test_client_refserver: $(CLIENT_REFSERVER)

# the scripted client as a program (clients/prog/vfu_client.c): the
# plainest session a VMM has, for vfu-fuzz --client and by hand
VFU_CLIENT_BIN := $(BUILD)/vfu-client
PROGRAMS += $(VFU_CLIENT_BIN)
$(BUILD)/obj/clients/prog/%.o: CPPFLAGS += -Iclients
$(VFU_CLIENT_BIN): $(BUILD)/obj/clients/prog/vfu_client.o $(CLIENT_LIB) $(LIB)
	$(CC) $(LDFLAGS) -pthread -o $@ $< $(CLIENT_LIB) $(LIB) $(LIB_LDLIBS)

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

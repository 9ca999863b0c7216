# The reference server's toy PCI device: a static archive the server program
# links, and the rule that links tests/test_toydev*.c against it.  A test
# must be named test_toydev<something>.c: the pattern needs a non-empty stem.
TOYDEV_SRCS := $(wildcard servers/toydev*.c)
TOYDEV_OBJS := $(TOYDEV_SRCS:%.c=$(BUILD)/obj/%.o)
TOYDEV_LIB := $(BUILD)/libtoydev.a

all: $(TOYDEV_LIB)

$(TOYDEV_LIB): $(TOYDEV_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/tests/test_toydev%.o: CPPFLAGS += -Iservers

# more specific than tests/tests.mk's $(BUILD)/tests/%, so make prefers it
$(BUILD)/tests/test_toydev%: $(BUILD)/obj/tests/test_toydev%.o $(TOYDEV_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TOYDEV_LIB) $(LIB) $(LIB_LDLIBS) -lcmocka

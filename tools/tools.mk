# Command-line tools built on the shared runtime.
PROGRAMS += $(BUILD)/vfu-spec

$(BUILD)/vfu-spec: $(BUILD)/obj/tools/vfu-spec.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS)

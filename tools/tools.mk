# Command-line tools built on the shared runtime.
PROGRAMS += $(BUILD)/vfu-spec

$(BUILD)/vfu-spec: $(BUILD)/obj/tools/vfu-spec.o $(BUILD)/obj/tools/spec_layout.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIB_LDLIBS)

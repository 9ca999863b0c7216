# Command-line tools built on the shared runtime.
PROGRAMS += $(BUILD)/vfu-spec

$(BUILD)/vfu-spec: $(BUILD)/obj/tools/vfu-spec.o $(BUILD)/obj/tools/spec_layout.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIB_LDLIBS)

# fuzz seeds and dictionaries (make corpus, fuzz/fuzz.mk)
PROGRAMS += $(BUILD)/vfu-corpus
$(BUILD)/vfu-corpus: $(BUILD)/obj/tools/vfu-corpus.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIB_LDLIBS)

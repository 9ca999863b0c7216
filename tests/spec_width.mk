# tests/test_spec_width.sh regenerates the tables from edited copies of the
# spec and compiles tests/spec_width_probe.c against them.  It needs this
# build's generator, compiler and flags (sanitizers under `make check`), so
# make writes a launcher holding them, which tests/run-tests.sh runs like
# any other test program.
SPEC_WIDTH_TEST := $(BUILD)/tests/test_spec_width
TESTS += $(SPEC_WIDTH_TEST)

$(SPEC_WIDTH_TEST): tests/test_spec_width.sh tests/spec_width_probe.c tests/spec_width_scn.c $(wildcard harness/scn_*.c) $(BUILD)/specgen \
		$(wildcard lib/core/*.c lib/core/*.h) tests/spec_width.mk
	@mkdir -p $(@D)
	@{ echo '#!/bin/sh'; \
	   echo "SPECGEN='$(abspath $(BUILD)/specgen)' CC='$(CC)' PROBE_CFLAGS='$(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS)'"; \
	   echo "export SPECGEN CC PROBE_CFLAGS"; \
	   echo "exec '$(abspath tests/test_spec_width.sh)' \"\$$@\""; } > $@.tmp
	@chmod +x $@.tmp && mv $@.tmp $@

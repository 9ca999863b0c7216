# tests/test_spec_meanings.sh runs this build's generator on edited copies
# of the spec (field meanings: role=, space=, span=, bound=).
SPEC_MEANINGS_TEST := $(BUILD)/tests/test_spec_meanings
TESTS += $(SPEC_MEANINGS_TEST)

$(SPEC_MEANINGS_TEST): tests/test_spec_meanings.sh $(BUILD)/specgen tests/spec_meanings.mk
	@mkdir -p $(@D)
	@{ echo '#!/bin/sh'; \
	   echo "SPECGEN='$(abspath $(BUILD)/specgen)'"; \
	   echo "export SPECGEN"; \
	   echo "exec sh '$(abspath tests/test_spec_meanings.sh)' \"\$$@\""; } > $@.tmp
	@chmod +x $@.tmp && mv $@.tmp $@

# the generator's error messages against their golden file, and every
# die() of spec/specgen/*.c with a case (or an #untested line saying why)
SPECGEN_ERRORS_TEST := $(BUILD)/tests/specgen_errors
TESTS += $(SPECGEN_ERRORS_TEST)
$(SPECGEN_ERRORS_TEST): tests/specgen_errors.sh tests/specgen/base.spec tests/specgen/errors.cases tests/specgen/errors.golden $(wildcard spec/specgen/*.[ch]) $(BUILD)/specgen
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s\n' '$(abspath tests/specgen_errors.sh)' '$(abspath $(BUILD)/specgen)' >$@
	chmod +x $@

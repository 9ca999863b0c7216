# The vfu-spec CLI, checked from the shell against the binary of this build
# (the sanitized one under `make check`).
TESTS += $(BUILD)/tests/vfu_spec_cli

$(BUILD)/tests/vfu_spec_cli: tests/vfu_spec_cli.sh $(BUILD)/vfu-spec
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s\n' '$(abspath tests/vfu_spec_cli.sh)' '$(abspath $(BUILD)/vfu-spec)' >$@
	chmod +x $@

# The build itself (make CC=clang's tree, make check's last line), from the shell
TESTS += $(BUILD)/tests/make_cli

$(BUILD)/tests/make_cli: tests/make_cli.sh tests/run-tests.sh Makefile
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s\n' '$(abspath tests/make_cli.sh)' '$(abspath .)' >$@
	chmod +x $@

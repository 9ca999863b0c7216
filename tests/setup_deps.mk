# tools/setup-deps.sh (the Debian packages make check / make conform / CI
# install), tested with fake dpkg-query, id and apt-get.
TESTS += $(BUILD)/tests/test_setup_deps

$(BUILD)/tests/test_setup_deps: tests/test_setup_deps.sh tools/setup-deps.sh
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s\n' '$(abspath tests/test_setup_deps.sh)' '$(abspath tools/setup-deps.sh)' >$@
	chmod +x $@

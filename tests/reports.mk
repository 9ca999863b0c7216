# The HTML report rendered by headless Chromium and checked by what a
# person sees (tests/report_html_browser.sh), against this build's
# vfu-conform and reference server (the sanitized ones under make check).
TESTS += $(BUILD)/tests/report_html_browser

$(BUILD)/tests/report_html_browser: tests/report_html_browser.sh $(BUILD)/vfu-conform $(BUILD)/vfu-refserver
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s\n' '$(abspath tests/report_html_browser.sh)' '$(abspath $(BUILD)/vfu-conform)' '$(abspath $(BUILD)/vfu-refserver)' >$@
	chmod +x $@

# reports/vfu-coverage end to end on the reference server built with gcc
# --coverage in its own tree ($(BUILD)/cov: never sanitized, -O0, and
# -DVFU_COVERAGE so that it leaves through exit() on SIGTERM)
TESTS += $(BUILD)/tests/vfu_coverage

$(BUILD)/cov/vfu-refserver: $(wildcard servers/*.c servers/*.h lib/*.c lib/*.h) spec/vfio-user.spec
	CFLAGS='-O0 -g --coverage -DVFU_COVERAGE' LDFLAGS='--coverage' $(MAKE) --no-print-directory BUILD=$(BUILD)/cov CC=gcc SANITIZE=0 $@

$(BUILD)/tests/vfu_coverage: tests/vfu_coverage.sh reports/vfu-coverage $(BUILD)/cov/vfu-refserver $(BUILD)/vfu-conform $(BUILD)/libvfu-gcov-flush.so
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/vfu_coverage.sh)' '$(abspath .)' '$(abspath $(BUILD))' '$(abspath $(BUILD)/cov)' >$@
	chmod +x $@

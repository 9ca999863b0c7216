# The HTML report rendered by headless Chromium and checked by what a
# person sees (tests/report_html_browser.sh), against this build's
# vfu-conform and reference server (the sanitized ones under make check).
TESTS += $(BUILD)/tests/report_html_browser

$(BUILD)/tests/report_html_browser: tests/report_html_browser.sh $(BUILD)/vfu-conform $(BUILD)/vfu-refserver
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s\n' '$(abspath tests/report_html_browser.sh)' '$(abspath $(BUILD)/vfu-conform)' '$(abspath $(BUILD)/vfu-refserver)' >$@
	chmod +x $@

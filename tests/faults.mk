# The seeded-fault proof (tests/test_faults.sh): vfu-conform against the
# reference server of this build (sanitized under `make check`) passes,
# and against each `vfu-refserver --fault NAME` fails; the table of which
# scenarios catch which fault goes to $(BUILD)/fault-table.txt.
TESTS += $(BUILD)/tests/faults

$(BUILD)/tests/faults: tests/test_faults.sh $(BUILD)/vfu-conform $(BUILD)/vfu-refserver
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s %s\n' '$(abspath tests/test_faults.sh)' '$(abspath $(BUILD)/vfu-conform)' '$(abspath $(BUILD)/vfu-refserver)' '$(abspath harness/scenarios)' '$(abspath $(BUILD)/fault-table.txt)' >$@
	chmod +x $@

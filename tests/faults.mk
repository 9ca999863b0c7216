# Seeded faults: vfu-conform must pass the reference server and catch every
# fault it can be told to commit (tests/test_faults.sh).
TESTS += $(BUILD)/tests/faults

$(BUILD)/tests/faults: tests/test_faults.sh $(BUILD)/vfu-conform $(BUILD)/vfu-refserver
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/test_faults.sh)' '$(abspath $(BUILD)/vfu-conform)' '$(abspath $(BUILD)/vfu-refserver)' '$(abspath $(BUILD)/fault-table.txt)' >$@
	chmod +x $@

# Reports for implementers (reports/vfu-coverage, README: Reports).
#
#   $(BUILD)/libvfu-gcov-flush.so   the LD_PRELOAD helper that makes a
#       coverage-built server write its counters on SIGTERM (gcov_flush.c).
#       Never sanitized: it is loaded into servers built without ASan.
#   make coverage
#       the reference server built with gcc --coverage in $(BUILD)/cov (its
#       rule is in tests/reports.mk, which tests the script with it), the
#       suite (and COVERAGE_CORPUS, COVERAGE_FUZZ_SECONDS) against it, lcov
#       and genhtml, the HTML report: build/coverage/report.html
#   make coverage SERVER='CMD' GCOV_DIR=DIR [COVERAGE_SRC=DIR] [COVERAGE_OUT=DIR]
#                 [COVERAGE_EXTRACT='*/lib/* ...']
#       the same for any server built with --coverage (COVERAGE_EXTRACT: the
#       lcov globs of the files to keep; default every file under COVERAGE_SRC)
GCOV_FLUSH := $(BUILD)/libvfu-gcov-flush.so
all: $(GCOV_FLUSH)

$(GCOV_FLUSH): reports/gcov_flush.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $<

COVERAGE_OUT ?= build/coverage
# session inputs run through the server after the suite (default: the
# checked-in seeds of the session target), and seconds of vfu-fuzz
COVERAGE_CORPUS ?= corpus/seeds/server_session
COVERAGE_FUZZ_SECONDS ?=
.PHONY: coverage
ifeq ($(SERVER),)
coverage: $(BUILD)/vfu-conform $(BUILD)/vfu-fuzz $(GCOV_FLUSH) $(BUILD)/cov/vfu-refserver
	sh reports/vfu-coverage --server $(BUILD)/cov/vfu-refserver --gcov-dir $(BUILD)/cov --source-dir . \
	  --extract '*/servers/*' --extract '*/lib/*' --tools $(BUILD) --out $(COVERAGE_OUT) \
	  $(COVERAGE_CORPUS:%=--corpus %) $(if $(COVERAGE_FUZZ_SECONDS),--fuzz-seconds $(COVERAGE_FUZZ_SECONDS))
else
coverage: $(BUILD)/vfu-conform $(BUILD)/vfu-fuzz $(GCOV_FLUSH)
	sh reports/vfu-coverage --server '$(SERVER)' --gcov-dir '$(GCOV_DIR)' $(if $(COVERAGE_SRC),--source-dir '$(COVERAGE_SRC)') \
	  $(foreach p,$(COVERAGE_EXTRACT),--extract '$(p)') \
	  --tools $(BUILD) --out $(COVERAGE_OUT) \
	  $(COVERAGE_CORPUS:%=--corpus %) $(if $(COVERAGE_FUZZ_SECONDS),--fuzz-seconds $(COVERAGE_FUZZ_SECONDS))
endif

# vfu-conform build.  `make` builds everything under build/; `make check`
# builds the tests with ASan+UBSan under build/san and runs them.
# CC=clang works as well as gcc.  Each part of the tree adds its programs
# and tests through its own .mk file, included below.

CC ?= cc
# each compiler builds in its own tree: `make CC=clang` lands in build/clang
# (and its `make check` in build/clang/san), never over gcc's objects
ifeq ($(origin BUILD),undefined)
BUILD := $(if $(findstring clang,$(notdir $(firstword $(CC)))),build/clang,build)
endif
SANITIZE ?= 0

# lib/ in three layers, each depending only on those before it:
#   core       descriptors, codec, errors, capabilities, dissector (libc, json-c)
#   transport  sockets and fd passing (core)
#   runtime    process supervision, signals, wire traces, the mutator (both, libcbor)
LIB_DIRS := lib/core lib/transport lib/runtime
# include/vfu: the public headers (installed); lib/*: each layer's internal ones
CPPFLAGS += -D_GNU_SOURCE -Iinclude/vfu $(addprefix -I,$(LIB_DIRS)) -I$(BUILD)/gen
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -MMD -MP
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

GEN := $(BUILD)/gen/vfu_proto.h $(BUILD)/gen/vfu_proto.c
CORE_LIB := $(BUILD)/libvfu.a
TRANSPORT_LIB := $(BUILD)/libvfutransport.a
RUNTIME_LIB := $(BUILD)/libvfurt.a
CORE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/core/*.c)) $(BUILD)/obj/gen/vfu_proto.o
TRANSPORT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/transport/*.c))
RUNTIME_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/runtime/*.c))
# what programs link: the three, the later layers first
LIB := $(RUNTIME_LIB) $(TRANSPORT_LIB) $(CORE_LIB)
# json-c for VERSION capabilities (core), libcbor for wire traces (runtime)
CORE_LDLIBS := -ljson-c
LIB_LDLIBS := -ljson-c -lcbor

PROGRAMS :=
TESTS :=
BENCHES :=

.PHONY: all check test bench clean conform deps
all: $(LIB) programs

.SECONDARY:

include $(wildcard */*.mk)

programs: $(PROGRAMS)

# The generator is a build tool: it gets no sanitizers, whatever SANITIZE says.
$(BUILD)/specgen: $(wildcard spec/specgen/*.c) spec/specgen/specgen.h include/vfu/vfu_desc.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -Iinclude/vfu -o $@ $(wildcard spec/specgen/*.c)

# specgen rewrites an output only when its content changed; the stamp says
# when it last ran, so an unchanged table rebuilds nothing downstream
$(BUILD)/gen/.stamp: spec/vfio-user.spec $(BUILD)/specgen
	@mkdir -p $(@D)
	$(BUILD)/specgen spec/vfio-user.spec $(BUILD)/gen/vfu_proto.h $(BUILD)/gen/vfu_proto.c
	@touch $@
$(BUILD)/gen/vfu_proto.h $(BUILD)/gen/vfu_proto.c: $(BUILD)/gen/.stamp ;

$(BUILD)/obj/gen/vfu_proto.o: $(BUILD)/gen/vfu_proto.c $(BUILD)/gen/vfu_proto.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/vfu_proto.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(TRANSPORT_LIB): $(TRANSPORT_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(RUNTIME_LIB): $(RUNTIME_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The Debian packages the build needs: installed when we are root, else
# named in the one apt-get line to run (tools/setup-deps.sh, which CI uses
# too).  One dpkg-query when everything is there.
deps:
	@sh tools/setup-deps.sh

# make check: the programs, then every test, sanitized, in its own build
# tree.  The tests run last, so that the last line of the output is their
# summary ("make check: N passed, 0 failed"): CI logs are read from the tail.
check: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD) all
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SANITIZE=1 run-tests

run-tests: $(TESTS)
	@./tests/run-tests.sh $(TESTS)

test: check

# the README's first command: the suite against the bundled reference server
# (packages first, then the build, so a missing library is named at once)
conform: deps
	$(MAKE) all
	$(BUILD)/vfu-conform --server $(BUILD)/vfu-refserver

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

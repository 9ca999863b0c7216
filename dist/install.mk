# make install / make uninstall: the programs, the libraries and their
# public headers, a pkg-config file, man pages, and the bundled scenarios
# and seeds where the installed programs look for them (PREFIX/share).
#   make install PREFIX=/usr/local DESTDIR=/tmp/stage
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
LIBDIR := $(DESTDIR)$(PREFIX)/lib
INCDIR := $(DESTDIR)$(PREFIX)/include/vfu
PCDIR := $(DESTDIR)$(PREFIX)/lib/pkgconfig
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
SHAREDIR := $(DESTDIR)$(PREFIX)/share/vfu-conform

INSTALL_PROGRAMS := vfu-conform vfu-refserver vfu-fuzz vfu-spec vfu-client
# include/vfu/ is the public header set (<vfu/vfu.h> takes all of it) with
# the generated ids and sizes; the libraries: the codec and its tables,
# errors, capabilities, dissector (libvfu.a), transport, scripted client
INSTALL_HEADERS := $(wildcard include/vfu/*.h) $(BUILD)/gen/vfu_proto.h
INSTALL_LIBS := $(BUILD)/libvfu.a $(BUILD)/libvfutransport.a $(BUILD)/libvfuclient.a
MAN_PAGES := $(wildcard dist/man/*.1)

.PHONY: install uninstall
install: all
	install -d $(BINDIR) $(LIBDIR) $(INCDIR) $(PCDIR) $(MANDIR) $(SHAREDIR)/scenarios $(SHAREDIR)/seeds
	install -m 0755 $(addprefix $(BUILD)/,$(INSTALL_PROGRAMS)) $(BINDIR)/
	install -m 0755 tools/vfu-qemu-guest.sh $(BINDIR)/vfu-qemu-guest
	install -m 0644 $(INSTALL_LIBS) $(LIBDIR)/
	install -m 0644 $(INSTALL_HEADERS) $(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define VFU_VERSION "\(.*\)"/\1/p' include/vfu/vfu_version.h)|g' \
		dist/vfu-conform.pc.in >$(PCDIR)/vfu-conform.pc
	install -m 0644 $(MAN_PAGES) $(MANDIR)/
	install -m 0644 harness/scenarios/*.scn $(SHAREDIR)/scenarios/
	cp -R corpus/seeds/. $(SHAREDIR)/seeds/

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(INSTALL_PROGRAMS) vfu-qemu-guest)
	rm -f $(addprefix $(LIBDIR)/,$(notdir $(INSTALL_LIBS)))
	rm -f $(addprefix $(INCDIR)/,$(notdir $(INSTALL_HEADERS)))
	rm -f $(PCDIR)/vfu-conform.pc $(addprefix $(MANDIR)/,$(notdir $(MAN_PAGES)))
	rm -rf $(SHAREDIR)
	-rmdir $(INCDIR) 2>/dev/null

# the install test: a staged install, a program built against it with
# pkg-config, the installed vfu-conform against the installed server
TESTS += $(BUILD)/tests/install_test
$(BUILD)/tests/install_test: tests/install_test.sh
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' '$(abspath tests/install_test.sh)' '$(abspath .)' '$(patsubst %/san,%,$(BUILD))' '$(CC)' >$@
	chmod +x $@

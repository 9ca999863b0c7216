/* vfu-conform's public interface in one include: <vfu/vfu.h>.
 *
 * libvfu (-lvfu, needs json-c): the generated protocol description
 * (vfu_proto.h ids and sizes, vfu_spec.h records), the codec, errors as
 * values, VERSION capabilities and negotiation, the dissector.
 * libvfutransport: framed messages and fds over a UNIX socket.
 * libvfuclient: the scripted client.  `pkg-config --cflags --libs vfu-conform`
 * gives all three.
 *
 * Conventions throughout: a function that can fail returns bool (or -1, or
 * NULL) and fills a struct vfu_error saying which rule was broken, on which
 * command and field, with the value seen and the bound; vfu_error_str()
 * turns it into one line.  Nothing here prints, exits or keeps global
 * state other than the read-only tables. */
#ifndef VFU_H
#define VFU_H

#include "vfu_version.h"
#include "vfu_error.h"
#include "vfu_desc.h"
#include "vfu_proto.h"
#include "vfu_spec.h"
#include "vfu_codec.h"
#include "vfu_caps.h"
#include "vfu_negotiate.h"
#include "vfu_dissect.h"
#include "vfu_transport.h"
#include "vfu_client.h"

#endif

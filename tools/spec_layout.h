/* vfu-spec's printouts of the generated tables. */
#ifndef VFU_SPEC_LAYOUT_H
#define VFU_SPEC_LAYOUT_H

#include "vfu_proto.h"

/* one command: direction, section, request and reply layouts and rules */
void spec_print_cmd(const struct vfu_cmd_desc *c);
/* the header, then every command */
void spec_print_all(void);
/* every structure with its size and fields */
void spec_print_structs(void);

#endif

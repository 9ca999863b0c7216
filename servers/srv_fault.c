/* The table of seeded faults (srv_fault.h); the question the server's
 * hooks ask, srv_fault(), is srv_int.h's (it reads struct srv). */
#include <string.h>

#include "srv_fault.h"

const struct srv_fault_info srv_fault_table[SRV_FAULT_COUNT] = {
#define SRV_FAULT_ROW(id, name, section, what) [FAULT_##id] = {name, section, what},
    SRV_FAULTS(SRV_FAULT_ROW)
#undef SRV_FAULT_ROW
};

int srv_fault_lookup(const char *name)
{
    for (int i = 0; i < SRV_FAULT_COUNT; i++)
        if (!strcmp(srv_fault_table[i].name, name)) return i;
    return -1;
}

void srv_fault_print(FILE *f)
{
    for (int i = 0; i < SRV_FAULT_COUNT; i++)
        fprintf(f, "%-32s %-34s %s\n", srv_fault_table[i].name, srv_fault_table[i].section,
                srv_fault_table[i].what);
}

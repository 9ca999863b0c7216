/* The one version of every vfu-conform program (vfu-conform, vfu-refserver,
 * vfu-spec): their --version, reports and wire traces all print this. */
#ifndef VFU_VERSION_H
#define VFU_VERSION_H

#define VFU_VERSION "0.1"

#endif

// What the GEMM needs to know about the CPU it runs on: its vendor (which micro-kernel shape
// suits its FMA units) and its per-core cache sizes (the block sizes). Read at run time, so a
// binary built on one machine blocks for the caches of the machine that runs it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CVAKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

// Reads one small decimal file with an optional K/M suffix ("32K", "1024K", "2"); 0 if absent.
static size_t read_sysfs_size(const char *path) {
  FILE *file = fopen(path, "r");
  if (!file) return 0;
  char text[32] = {0};
  size_t value = 0;
  if (fgets(text, sizeof text, file)) {
    char *end = text;
    value = (size_t)strtoull(text, &end, 10);
    if (*end == 'K') value *= 1024;
    else if (*end == 'M') value *= 1024 * 1024;
  }
  fclose(file);
  return value;
}

// Linux's cache description of cpu0: index0..index7, each with a level, a type and a size
// (per instance: the L2 of one core, the L3 of one complex).
static int caches_from_sysfs(cva_caches *out) {
  int found = 0;
  for (int index = 0; index < 8; index++) {
    char path[96], type[32] = {0};
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", index);
    FILE *file = fopen(path, "r");
    if (!file) continue;
    if (!fgets(type, sizeof type, file)) type[0] = 0;
    fclose(file);
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", index);
    size_t level = read_sysfs_size(path);
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
    size_t size = read_sysfs_size(path);
    if (size == 0 || strncmp(type, "Instruction", 11) == 0) continue;
    if (level == 1) out->l1d = size;
    else if (level == 2) out->l2 = size;
    else if (level == 3) out->l3 = size;
    found = 1;
  }
  return found && out->l1d && out->l2;
}

#if defined(__x86_64__)
// CPUID's deterministic cache parameters: leaf 4 on Intel, 0x8000001D on AMD (same layout):
// size = ways × partitions × line size × sets.
static int caches_from_cpuid(cva_caches *out, unsigned leaf) {
  unsigned a, b, c, d;
  unsigned max_leaf = __get_cpuid_max(leaf & 0x80000000u, NULL);
  if (max_leaf < leaf) return 0;
  int found = 0;
  for (unsigned sub = 0; sub < 16; sub++) {
    __cpuid_count(leaf, sub, a, b, c, d);
    unsigned type = a & 0x1F;  // 0 none, 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    unsigned level = (a >> 5) & 0x7;
    size_t size = (size_t)((b >> 22) + 1) * (((b >> 12) & 0x3FF) + 1) * ((b & 0xFFF) + 1) * ((size_t)c + 1);
    if (level == 1) out->l1d = size;
    else if (level == 2) out->l2 = size;
    else if (level == 3) out->l3 = size;
    found = 1;
  }
  return found && out->l1d && out->l2;
}
#endif

int cva_cpu_vendor(void) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return CVA_VENDOR_OTHER;
  char vendor[13];
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  vendor[12] = 0;
  if (strcmp(vendor, "GenuineIntel") == 0) return CVA_VENDOR_INTEL;
  if (strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0) return CVA_VENDOR_AMD;
#endif
  return CVA_VENDOR_OTHER;
}

cva_caches cva_detect_caches(void) {
  cva_caches caches = {0, 0, 0, CVA_CACHES_DEFAULT};
  if (caches_from_sysfs(&caches)) {
    caches.source = CVA_CACHES_SYSFS;
    return caches;
  }
  caches = (cva_caches){0, 0, 0, CVA_CACHES_DEFAULT};
#if defined(__x86_64__)
  if (caches_from_cpuid(&caches, cva_cpu_vendor() == CVA_VENDOR_AMD ? 0x8000001Du : 4u)) {
    caches.source = CVA_CACHES_CPUID;
    return caches;
  }
#endif
  // Neither source answered (a sandbox, another OS): a common modern core's sizes.
  return (cva_caches){32 * 1024, 1024 * 1024, 8 * 1024 * 1024, CVA_CACHES_DEFAULT};
}

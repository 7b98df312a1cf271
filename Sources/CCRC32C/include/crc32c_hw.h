#ifndef MAGEVAULT_CRC32C_HW_H
#define MAGEVAULT_CRC32C_HW_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction (x86-64 SSE4.2, AArch64 CRC), else 0.
int mgv_crc32c_hardware_available(void);

/// Continues a CRC-32C (Castagnoli, reflected) over `count` bytes with the CPU's CRC
/// instruction: `state` is the running register (start from 0xFFFFFFFF, invert at the
/// end). Call only when mgv_crc32c_hardware_available() returned 1.
uint32_t mgv_crc32c_hardware_update(uint32_t state, const void *bytes, size_t count);

#endif

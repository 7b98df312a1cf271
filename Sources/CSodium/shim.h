#ifndef MAGEVAULT_CSODIUM_SHIM_H
#define MAGEVAULT_CSODIUM_SHIM_H
#include <sodium.h>
#endif

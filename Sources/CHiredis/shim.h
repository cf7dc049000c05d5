#ifndef QUOTE_RELAY_CHIREDIS_SHIM_H
#define QUOTE_RELAY_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif

#ifndef CENGRAM_LMDB_SHIM_H
#define CENGRAM_LMDB_SHIM_H
// The one door to liblmdb (Debian: liblmdb-dev). Only EngramStorage imports this module.
#include <lmdb.h>
#endif

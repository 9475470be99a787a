// The C shim for OpenBLAS (Debian `libopenblas-dev`, pkg-config `openblas`). Only
// EngramEmbedding's BLAS.swift imports it.
#ifndef ENGRAM_BLAS_SHIM_H
#define ENGRAM_BLAS_SHIM_H
#include <cblas.h>
#endif

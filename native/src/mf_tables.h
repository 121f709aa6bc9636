/* Read-only tables of the MF receiver (generated into mf_tables.c by native/tools/gen_mf_tables.py). */
#ifndef CCBOARD_MF_TABLES_H
#define CCBOARD_MF_TABLES_H

#include "ccboard/mf.h"

extern const float cc_mf_freq[3][6];
extern const int16_t cc_mf_basis[3][12][CC_MF_BLOCK];
extern const float cc_mf_ginv[3][144];
extern const float cc_mf_pair_ginv[3][15][16];
extern const float cc_mf_rot[3][12];
extern const float cc_mf_half_ginv[3][30][16];
extern const float cc_mf_basis_one;

#endif

/* Read-only tables of the DTMF receiver (generated into dtmf_tables.c). */
#ifndef CCBOARD_DTMF_TABLES_H
#define CCBOARD_DTMF_TABLES_H

#include "ccboard/dtmf.h"

extern const int16_t cc_dtmf_basis[16][CC_DTMF_BLOCK];
extern const float cc_dtmf_pair_ginv[16][16];
extern const float cc_dtmf_harmonic_coeff[8];
extern const float cc_dtmf_probe_trig[32][3];
#define CC_DTMF_SEGMENT 40
extern const float cc_dtmf_window[2 * CC_DTMF_BLOCK];
extern const float cc_dtmf_probe_coeff[8][3];
extern const float cc_dtmf_window_sum;
extern const float cc_dtmf_window_sum_sq;
extern const float cc_dtmf_probe_delta;
extern const float cc_dtmf_basis_one;

#endif

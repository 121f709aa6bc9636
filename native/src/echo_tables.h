/* Read-only tables of the echo canceller (generated into echo_tables.c). */
#ifndef CCBOARD_ECHO_TABLES_H
#define CCBOARD_ECHO_TABLES_H

#include "ccboard/private/echo.h"

extern const float cc_echo_tone_cos[CC_ECHO_TONE_WIN];
extern const float cc_echo_tone_sin[CC_ECHO_TONE_WIN];

#endif

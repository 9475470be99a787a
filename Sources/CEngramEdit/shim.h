#ifndef CENGRAM_EDIT_SHIM_H
#define CENGRAM_EDIT_SHIM_H
// The one door to libedit (Debian: libedit-dev): line editing and history for the REPL.
// Only EngramCommand's LineEditor imports this module.
#include <stdio.h>
#include <editline/readline.h>
#endif

#ifndef CENGRAM_EDIT_SHIM_H
#define CENGRAM_EDIT_SHIM_H
// The one door to libedit (Debian: libedit-dev): line editing and history for the REPL.
// Only EngramCommand's LineReader imports this module.
#include <stdio.h>
#include <editline/readline.h>

// Leaves SIGINT to the REPL's own handler: libedit then neither catches Ctrl-C nor re-raises it.
static inline void cengram_edit_leave_signals_to_caller(void) {
    rl_catch_signals = 0;
}
#endif

/*
 * fiber.h -- the machine layer under rt's fibers: stacks and the context switch.
 *
 * Why: rt's fibers are stackful and cooperative; switching between them must cost a
 * few nanoseconds and must not go through the kernel (no swapcontext, which saves
 * the signal mask with a syscall). This module owns the only assembly in NextDB.
 *
 * Model: a context is the saved stack pointer of a suspended execution; everything
 * else the x86-64 SysV ABI asks a callee to preserve (rbx, rbp, r12-r15, the x87
 * control word and MXCSR) is pushed on that execution's own stack by fiber_switch.
 * Stacks are mmap'd regions of LIMIT_FIBER_STACK_BYTES plus one PROT_NONE guard page
 * below them, so an overflow faults instead of corrupting a neighbour.
 * Sanitizers: under ASan every switch is announced with
 * __sanitizer_start/finish_switch_fiber; under TSan every context has a TSan fiber
 * and switches go through __tsan_switch_to_fiber. Callers never see the difference.
 *
 * Interface:
 *   fiber_stack_alloc / fiber_stack_free   map / unmap a guarded stack
 *   fiber_ctx_init_thread                  describe the calling thread's own stack
 *   fiber_ctx_make                         prepare a context that starts in entry()
 *   fiber_switch                           save the current context, resume another
 *   fiber_entered                          first call of a new context's entry()
 *
 * Limits: x86-64 only. Thread: a context runs only on the thread that made it.
 */
#ifndef NEXTDB_FIBER_H
#define NEXTDB_FIBER_H
#include <stdbool.h>
#include <stddef.h>

typedef struct fiber_ctx {
    void *ctx_sp;                 /* saved stack pointer while not running */
    void *ctx_stack_lo;           /* lowest usable address of its stack */
    size_t ctx_stack_bytes;       /* usable size (without guard page) */
    void *ctx_map;                /* mmap base (guard page), NULL for a thread stack */
    size_t ctx_map_bytes;
    void *ctx_asan_fake_stack;    /* ASan bookkeeping across switches */
    void *ctx_tsan_fiber;         /* TSan fiber handle */
} fiber_ctx_t;

/* Maps a stack of LIMIT_FIBER_STACK_BYTES with a guard page into ctx (and creates
 * the TSan fiber). 0 or -ENOMEM. */
int fiber_stack_alloc(fiber_ctx_t *ctx);
/* Unmaps the stack of a context that will never run again. */
void fiber_stack_free(fiber_ctx_t *ctx);
/* Fills ctx for the calling thread's own (pthread) stack, which loops run on. */
void fiber_ctx_init_thread(fiber_ctx_t *ctx);
/* Prepares ctx (with a stack) so that switching to it calls entry() on a fresh
 * stack. entry must never return: it ends by switching away with exiting = true. */
void fiber_ctx_make(fiber_ctx_t *ctx, void (*entry)(void));
/* Saves the running context into from and resumes to. Returns when something
 * switches back to from. exiting = from will never run again (its stack may be
 * reused), which ASan must be told. */
void fiber_switch(fiber_ctx_t *from, fiber_ctx_t *to, bool exiting);
/* Must be the first call in every entry() passed to fiber_ctx_make. */
void fiber_entered(void);
#endif

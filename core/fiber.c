/*
 * fiber.c -- guarded stacks and the x86-64 context switch; see fiber.h.
 */
#include "core/fiber.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/limits.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(NEXTDB_TSAN) || defined(__SANITIZE_THREAD__)
#define FIBER_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

STATIC_ASSERT(LIMIT_FIBER_STACK_BYTES % 4096 == 0, "fiber stacks are whole pages");
STATIC_ASSERT(LIMIT_FIBER_STACK_BYTES >= 64 * 1024, "fiber stacks below 64 KiB are too small");

/*
 * fiber__swap(save_sp, load_sp): pushes the callee-saved state on the current stack,
 * stores rsp in *save_sp, loads load_sp and pops the state saved there, then returns
 * into whatever called fiber__swap on that stack (or into the entry trampoline for a
 * fresh context). Frame, from the saved rsp upwards:
 *   [x87 cw (8)] [mxcsr (8)] r15 r14 r13 r12 rbx rbp [return address]
 * Naked: the compiler adds no prologue, so the layout is exactly the one above.
 */
__attribute__((naked, noinline)) static void fiber__swap(void **save_sp, void *load_sp)
{
    __asm__ volatile(
        "pushq %rbp\n\t"
        "pushq %rbx\n\t"
        "pushq %r12\n\t"
        "pushq %r13\n\t"
        "pushq %r14\n\t"
        "pushq %r15\n\t"
        "subq $16, %rsp\n\t"
        "stmxcsr 8(%rsp)\n\t"
        "fnstcw (%rsp)\n\t"
        "movq %rsp, (%rdi)\n\t"
        "movq %rsi, %rsp\n\t"
        "fldcw (%rsp)\n\t"
        "ldmxcsr 8(%rsp)\n\t"
        "addq $16, %rsp\n\t"
        "popq %r15\n\t"
        "popq %r14\n\t"
        "popq %r13\n\t"
        "popq %r12\n\t"
        "popq %rbx\n\t"
        "popq %rbp\n\t"
        "ret\n\t");
}

int fiber_stack_alloc(fiber_ctx_t *ctx)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t map_bytes = LIMIT_FIBER_STACK_BYTES + page;
    void *map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return -ENOMEM;
    /* The guard page sits below the stack because x86-64 stacks grow down. */
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, map_bytes);
        return -ENOMEM;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->ctx_map = map;
    ctx->ctx_map_bytes = map_bytes;
    ctx->ctx_stack_lo = (char *)map + page;
    ctx->ctx_stack_bytes = LIMIT_FIBER_STACK_BYTES;
#ifdef FIBER_TSAN
    ctx->ctx_tsan_fiber = __tsan_create_fiber(0);
#endif
    return 0;
}

void fiber_stack_free(fiber_ctx_t *ctx)
{
    ASSERT(ctx->ctx_map != NULL);
#ifdef FIBER_TSAN
    if (ctx->ctx_tsan_fiber)
        __tsan_destroy_fiber(ctx->ctx_tsan_fiber);
#endif
#ifdef FIBER_ASAN
    /* Frames that never returned (the entry trampoline) leave poison behind. */
    __asan_unpoison_memory_region(ctx->ctx_stack_lo, ctx->ctx_stack_bytes);
#endif
    munmap(ctx->ctx_map, ctx->ctx_map_bytes);
    memset(ctx, 0, sizeof *ctx);
}

void fiber_ctx_init_thread(fiber_ctx_t *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo = NULL;
        size_t bytes = 0;
        if (pthread_attr_getstack(&attr, &lo, &bytes) == 0) {
            ctx->ctx_stack_lo = lo;
            ctx->ctx_stack_bytes = bytes;
        }
        pthread_attr_destroy(&attr);
    }
#ifdef FIBER_TSAN
    ctx->ctx_tsan_fiber = __tsan_get_current_fiber();
#endif
}

void fiber_ctx_make(fiber_ctx_t *ctx, void (*entry)(void))
{
    ASSERT(ctx->ctx_map != NULL);
#ifdef FIBER_ASAN
    __asan_unpoison_memory_region(ctx->ctx_stack_lo, ctx->ctx_stack_bytes);
#endif
    uintptr_t top = (uintptr_t)ctx->ctx_stack_lo + ctx->ctx_stack_bytes;
    top &= ~(uintptr_t)15;
    /* After fiber__swap's `ret` pops the entry address, rsp = top - 8, which is the
     * alignment a function expects right after a call (rsp + 8 is 16-aligned). */
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0;                          /* fake return address of entry(): ends backtraces */
    *--sp = (uint64_t)(uintptr_t)entry; /* fiber__swap returns here */
    for (int i = 0; i < 6; i++)
        *--sp = 0;                      /* rbp rbx r12 r13 r14 r15 */
    *--sp = 0x1F80;                     /* MXCSR: default, all exceptions masked */
    *--sp = 0x037F;                     /* x87 control word: default */
    ctx->ctx_sp = sp;
    ctx->ctx_asan_fake_stack = NULL;
}

void fiber_switch(fiber_ctx_t *from, fiber_ctx_t *to, bool exiting)
{
    DASSERT(to->ctx_sp != NULL);
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(exiting ? NULL : &from->ctx_asan_fake_stack,
                                   to->ctx_stack_lo, to->ctx_stack_bytes);
#else
    (void)exiting;
#endif
#ifdef FIBER_TSAN
    __tsan_switch_to_fiber(to->ctx_tsan_fiber, 0);
#endif
    fiber__swap(&from->ctx_sp, to->ctx_sp);
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(from->ctx_asan_fake_stack, NULL, NULL);
#endif
}

void fiber_entered(void)
{
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

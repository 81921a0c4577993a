/* Runs a compiled regex (hret_eval_regex.c) over text: backtracking with an explicit stack and a
 * step budget, for Python re.sub(pattern, "", text). */
#include "hret_eval_regex.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hret_eval_regex_prog.h"
#include "hret_mem.h"
#include "hret_utf8.h"

/* ---- running it ---- */

struct frame {
    int pc; /* -1: a slot to restore */
    size_t pos;
    size_t slot, old;
};

struct runner {
    const struct hret_eval_regex *re;
    const uint32_t *t;
    size_t n;
    size_t *slots;
    struct frame *stack;
    size_t depth, cap;
    size_t budget;
};

static void push(struct runner *r, struct frame f)
{
    if (r->depth == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->stack = hret_xrealloc(r->stack, r->cap * sizeof *r->stack);
    }
    r->stack[r->depth++] = f;
}

static bool cat_match(char cat, uint32_t c)
{
    switch (cat) {
    case 'd':
    case 'D':
        return hret_utf8_is_decimal(c) == (cat == 'd');
    case 's':
    case 'S':
        return hret_utf8_is_space(c) == (cat == 's');
    default:
        return hret_utf8_is_word(c) == (cat == 'w');
    }
}

static bool class_match(const struct hret_eval_regex *re, uint32_t k, uint32_t c)
{
    const struct cls *cl = &re->classes[k];
    for (size_t i = cl->first; i < cl->first + cl->count; i++) {
        const struct cls_item *it = &re->items[i];
        if (it->cat ? cat_match(it->cat, c) : c >= it->lo && c <= it->hi) {
            return !cl->negated;
        }
    }
    return cl->negated;
}

static bool assert_ok(const struct runner *r, uint32_t kind, size_t pos)
{
    bool before, after;
    switch (kind) {
    case A_BOL:
    case A_BEGIN:
        return pos == 0;
    case A_EOL:
        return pos == r->n || (pos + 1 == r->n && r->t[pos] == '\n');
    case A_END:
        return pos == r->n;
    default:
        before = pos > 0 && hret_utf8_is_word(r->t[pos - 1]);
        after = pos < r->n && hret_utf8_is_word(r->t[pos]);
        return (before != after) == (kind == A_WORDB);
    }
}

/* One step of thread (pc, pos): true to go on with the updated pc/pos. */
static bool step(struct runner *r, int *pc, size_t *pos)
{
    const struct inst *in = &r->re->prog[*pc];
    size_t p = *pos;
    bool here = p < r->n;
    switch (in->op) {
    case I_CHAR:
    case I_CLASS:
        if (!here ||
            (in->op == I_CHAR ? r->t[p] != in->arg : !class_match(r->re, in->arg, r->t[p]))) {
            return false;
        }
        (*pos)++;
        break;
    case I_ASSERT:
        if (!assert_ok(r, in->arg, p)) {
            return false;
        }
        break;
    case I_SPLIT:
        push(r, (struct frame){in->y, p, 0, 0});
        *pc = in->x;
        return true;
    case I_JMP:
        *pc = in->x;
        return true;
    case I_MARK:
        push(r, (struct frame){-1, 0, in->arg, r->slots[in->arg]});
        r->slots[in->arg] = p;
        break;
    case I_CHECK:
        if (r->slots[in->arg] == p) {
            *pc = in->x;
            return true;
        }
        break;
    case I_MATCH:
        return false;
    }
    (*pc)++;
    return true;
}

/* The end of the first non-empty match at start in priority order (Python's must_advance), or
 * start if there is none; SIZE_MAX past the budget. */
static size_t match_at(struct runner *r, size_t start)
{
    r->depth = 0;
    push(r, (struct frame){0, start, 0, 0});
    while (r->depth > 0) {
        struct frame f = r->stack[--r->depth];
        if (f.pc < 0) {
            r->slots[f.slot] = f.old;
            continue;
        }
        int pc = f.pc;
        size_t pos = f.pos;
        for (;;) {
            if (r->budget-- == 0) {
                return SIZE_MAX;
            }
            if (r->re->prog[pc].op == I_MATCH && pos > start) {
                return pos;
            }
            if (!step(r, &pc, &pos)) {
                break;
            }
        }
    }
    return start;
}

enum hret_result hret_eval_regex_remove(const struct hret_eval_regex *re, const char *s, size_t n,
                                        char **out, size_t *out_len, struct hret_err *err)
{
    uint32_t *t = hret_xmalloc((n + 1) * sizeof *t);
    size_t *off = hret_xmalloc((n + 1) * sizeof *off);
    size_t ncp = 0;
    for (size_t i = 0; i < n; ncp++) {
        off[ncp] = i;
        i += hret_utf8_decode(s + i, n - i, &t[ncp]);
    }
    off[ncp] = n;
    struct runner r = {re,   t, ncp, hret_xcalloc(re->nslots + 1, sizeof(size_t)),
                       NULL, 0, 0,   STEP_BUDGET_BASE + STEP_BUDGET_PER_CHAR * ncp};
    char *o = hret_xmalloc(n + 1);
    size_t olen = 0, last = 0;
    enum hret_result rc = HRET_OK;
    for (size_t pos = 0; pos < ncp;) {
        size_t end = match_at(&r, pos);
        if (end == SIZE_MAX) {
            rc = hret_err_set(err, HRET_E_INVAL, "regex backtracks too much on this text");
            break;
        }
        if (end > pos) {
            memcpy(o + olen, s + off[last], off[pos] - off[last]);
            olen += off[pos] - off[last];
            last = end;
        }
        pos = end > pos ? end : pos + 1;
    }
    memcpy(o + olen, s + off[last], n - off[last]);
    olen += n - off[last];
    o[olen] = '\0';
    free(t);
    free(off);
    free(r.slots);
    free(r.stack);
    if (rc != HRET_OK) {
        free(o);
        return rc;
    }
    *out = o;
    *out_len = olen;
    return HRET_OK;
}

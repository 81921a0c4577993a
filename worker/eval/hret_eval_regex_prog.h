/* Internal to the regex engine: the compiled program shared by its compiler
 * (hret_eval_regex.c) and its runner (hret_eval_regex_run.c). */
#ifndef HRET_EVAL_REGEX_PROG_H
#define HRET_EVAL_REGEX_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hret_eval_regex.h"

#define STEP_BUDGET_BASE 1000000u
#define STEP_BUDGET_PER_CHAR 1000u

enum assert_kind { A_BOL, A_EOL, A_BEGIN, A_END, A_WORDB, A_NWORDB };
enum op { I_CHAR, I_CLASS, I_ASSERT, I_SPLIT, I_JMP, I_MARK, I_CHECK, I_MATCH };

struct cls_item {
    uint32_t lo, hi; /* a range, or lo = 0, hi = 0 with cat set */
    char cat;        /* 'd' 'D' 's' 'S' 'w' 'W' or 0 */
};

struct cls {
    bool negated;
    size_t first, count; /* into items */
};

struct inst {
    enum op op;
    uint32_t arg;
    int x, y;
};

struct hret_eval_regex {
    struct inst *prog;
    size_t nprog;
    struct cls *classes;
    size_t nclasses;
    struct cls_item *items;
    size_t nitems;
    size_t nslots;
};

#endif

/* A small backtracking regex engine (the re1 "backtrack" design: a parsed tree compiled to a
 * program of CHAR/SPLIT/JMP instructions, run with an explicit stack) for Python re.sub. */
#include "hret_eval_regex.h"
#include "hret_eval_regex_prog.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"
#include "hret_utf8.h"

#define MAX_PATTERN 4096  /* code points */
#define MAX_REPEAT 1000   /* Python allows more; nobody needs it here */
#define MAX_PROGRAM 20000 /* instructions after expanding {m,n} */
#define MAX_DEPTH 100     /* nested groups */
#define REPEAT_INF (-1)

enum node_kind { N_EMPTY, N_CHAR, N_CLASS, N_ASSERT, N_CAT, N_ALT, N_REPEAT };
struct node {
    enum node_kind kind;
    uint32_t arg; /* character, class index or assert kind */
    int a, b;     /* children */
    int min, max;
    bool greedy;
};

struct parser {
    uint32_t *p; /* the pattern's code points */
    size_t n, i;
    struct node *nodes;
    size_t nnodes, cap;
    struct hret_eval_regex *re;
    size_t items_cap, classes_cap;
    struct hret_err *err;
    int depth;
    bool failed;
};

static int fail(struct parser *ps, const char *what)
{
    if (!ps->failed) {
        hret_err_set(ps->err, HRET_E_INVAL, "%s at position %zu", what, ps->i);
        ps->failed = true;
    }
    return -1;
}

/* Room for one more element in a growing array. */
static void *grow(void *arr, size_t len, size_t *cap, size_t size)
{
    if (len < *cap) {
        return arr;
    }
    *cap = *cap ? *cap * 2 : 16;
    return hret_xrealloc(arr, *cap * size);
}

static int new_node(struct parser *ps, enum node_kind kind, uint32_t arg, int a, int b)
{
    ps->nodes = grow(ps->nodes, ps->nnodes, &ps->cap, sizeof *ps->nodes);
    ps->nodes[ps->nnodes] = (struct node){kind, arg, a, b, 0, 0, true};
    return (int)ps->nnodes++;
}

static bool in_set(const char *set, uint32_t c)
{
    return c != 0 && c < 128 && strchr(set, (int)c) != NULL;
}

static bool at(const struct parser *ps, uint32_t c)
{
    return ps->i < ps->n && ps->p[ps->i] == c;
}

static bool is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* \xhh and \uXXXX after the letter. */
static long parse_hex(struct parser *ps, size_t digits)
{
    long v = 0;
    for (size_t k = 0; k < digits; k++, ps->i++) {
        uint32_t c = ps->i < ps->n ? ps->p[ps->i] : 0;
        uint32_t l = c | 0x20u;
        if (!is_digit(c) && !(l >= 'a' && l <= 'f')) {
            return fail(ps, "bad escape");
        }
        v = v * 16 + (long)(is_digit(c) ? c - '0' : l - 'a' + 10);
    }
    return v;
}

/* The character an escape after '\\' stands for; -2 for a category or assertion letter
 * (the caller's business), -1 on error. */
static long escape_char(struct parser *ps, uint32_t c)
{
    static const char from[] = "afnrtv0", to[] = "\a\f\n\r\t\v";
    if (in_set(from, c)) {
        return to[strchr(from, (int)c) - from]; /* \0 maps to the terminator */
    }
    if (c == 'x' || c == 'u') {
        return parse_hex(ps, c == 'x' ? 2 : 4);
    }
    if (is_digit(c)) {
        return fail(ps, "back-references are not supported");
    }
    if ((c | 0x20u) >= 'a' && (c | 0x20u) <= 'z') {
        return in_set("dDsSwWbBAZ", c) ? -2 : fail(ps, "bad or unsupported escape");
    }
    return c; /* escaped punctuation or any non-ASCII character: itself */
}

static void add_item(struct parser *ps, uint32_t lo, uint32_t hi, char cat)
{
    struct hret_eval_regex *re = ps->re;
    re->items = grow(re->items, re->nitems, &ps->items_cap, sizeof *re->items);
    re->items[re->nitems++] = (struct cls_item){lo, hi, cat};
}

/* A class node for items [first, nitems). */
static int push_class(struct parser *ps, bool negated, size_t first)
{
    struct hret_eval_regex *re = ps->re;
    re->classes = grow(re->classes, re->nclasses, &ps->classes_cap, sizeof *re->classes);
    re->classes[re->nclasses] = (struct cls){negated, first, re->nitems - first};
    return new_node(ps, N_CLASS, (uint32_t)re->nclasses++, -1, -1);
}

/* One class member: a character (returned) or a category (added, -2). */
static long class_atom(struct parser *ps)
{
    uint32_t c = ps->p[ps->i++];
    if (c != '\\') {
        return c;
    }
    c = ps->i < ps->n ? ps->p[ps->i++] : 0;
    if (c == 'b') {
        return 8; /* backspace inside a class */
    }
    if (in_set("dDsSwW", c)) {
        add_item(ps, 0, 0, (char)c);
        return -2;
    }
    long v = c == 0 ? -2 : escape_char(ps, c);
    return v == -2 ? fail(ps, "bad escape in a class") : v;
}

static int parse_class(struct parser *ps)
{
    size_t first = ps->re->nitems;
    bool negated = at(ps, '^');
    ps->i += negated;
    for (size_t start = ps->i; ps->i < ps->n && (ps->i == start || !at(ps, ']'));) {
        long lo = class_atom(ps), hi = lo;
        if (lo >= 0 && at(ps, '-') && ps->i + 1 < ps->n && ps->p[ps->i + 1] != ']') {
            ps->i++;
            hi = class_atom(ps);
            if (hi < lo) {
                return fail(ps, "bad character range");
            }
        }
        if (lo == -1 || hi == -1) {
            return -1;
        }
        if (lo >= 0) {
            add_item(ps, (uint32_t)lo, (uint32_t)hi, 0);
        }
    }
    if (!at(ps, ']')) {
        return fail(ps, "unterminated character set");
    }
    ps->i++;
    return push_class(ps, negated, first);
}

static int parse_alt(struct parser *ps);

static int parse_escape_atom(struct parser *ps)
{
    static const char asserts[] = "AZbB";
    static const enum assert_kind kinds[] = {A_BEGIN, A_END, A_WORDB, A_NWORDB};
    uint32_t c = ps->i < ps->n ? ps->p[ps->i++] : 0;
    if (in_set(asserts, c)) {
        return new_node(ps, N_ASSERT, kinds[strchr(asserts, (int)c) - asserts], -1, -1);
    }
    if (in_set("dDsSwW", c)) {
        size_t first = ps->re->nitems;
        add_item(ps, 0, 0, (char)c);
        return push_class(ps, false, first);
    }
    long v = c == 0 ? fail(ps, "bad escape (end of pattern)") : escape_char(ps, c);
    return v < 0 ? -1 : new_node(ps, N_CHAR, (uint32_t)v, -1, -1);
}

static int parse_group(struct parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        return fail(ps, "groups nested too deep");
    }
    if (at(ps, '?')) {
        if (ps->i + 1 < ps->n && ps->p[ps->i + 1] == ':') {
            ps->i += 2;
        } else {
            return fail(ps, "(?...) groups other than (?:...) are not supported");
        }
    }
    int inner = parse_alt(ps);
    if (inner < 0) {
        return -1;
    }
    if (!at(ps, ')')) {
        return fail(ps, "missing ), unterminated subpattern");
    }
    ps->i++;
    ps->depth--;
    return inner;
}

static int parse_atom(struct parser *ps)
{
    uint32_t c = ps->p[ps->i++];
    switch (c) {
    case '(':
        return parse_group(ps);
    case '[':
        return parse_class(ps);
    case '.': {
        size_t first = ps->re->nitems;
        add_item(ps, '\n', '\n', 0);
        return push_class(ps, true, first);
    }
    case '^':
        return new_node(ps, N_ASSERT, A_BOL, -1, -1);
    case '$':
        return new_node(ps, N_ASSERT, A_EOL, -1, -1);
    case '\\':
        return parse_escape_atom(ps);
    case '*':
    case '+':
    case '?':
        ps->i--;
        return fail(ps, "nothing to repeat");
    default:
        return new_node(ps, N_CHAR, c, -1, -1);
    }
}

static int parse_number(struct parser *ps, int dflt)
{
    if (ps->i >= ps->n || !is_digit(ps->p[ps->i])) {
        return dflt;
    }
    long v = 0;
    while (ps->i < ps->n && is_digit(ps->p[ps->i])) {
        v = v * 10 + (long)(ps->p[ps->i++] - '0');
        if (v > MAX_REPEAT) {
            return fail(ps, "repeat count too large");
        }
    }
    return (int)v;
}

/* {m}, {m,}, {,n}, {m,n} at ps->i ('{'); false (and nothing consumed) if it is a literal. */
static bool parse_braces(struct parser *ps, int *min, int *max)
{
    size_t save = ps->i++;
    bool has_min = ps->i < ps->n && is_digit(ps->p[ps->i]);
    *min = parse_number(ps, 0);
    *max = *min;
    if (at(ps, ',')) {
        ps->i++;
        *max = parse_number(ps, REPEAT_INF);
    } else if (!has_min) {
        ps->i = save;
        return false;
    }
    if (ps->failed || !at(ps, '}')) {
        ps->i = save;
        return false;
    }
    ps->i++;
    return true;
}

static bool is_quantifier(struct parser *ps, int *min, int *max)
{
    uint32_t c = ps->p[ps->i];
    if (c == '*' || c == '+' || c == '?') {
        ps->i++;
        *min = c == '+' ? 1 : 0;
        *max = c == '?' ? 1 : REPEAT_INF;
        return true;
    }
    return c == '{' && parse_braces(ps, min, max);
}

static int parse_repeat(struct parser *ps)
{
    bool group = at(ps, '(');
    int atom = parse_atom(ps);
    int min, max;
    if (atom < 0 || ps->i >= ps->n || !is_quantifier(ps, &min, &max)) {
        return atom;
    }
    if (ps->failed) {
        return -1;
    }
    if (max != REPEAT_INF && max < min) {
        return fail(ps, "min repeat greater than max repeat");
    }
    if (ps->nodes[atom].kind == N_ASSERT && !group) {
        return fail(ps, "nothing to repeat");
    }
    bool greedy = true;
    if (at(ps, '?')) {
        greedy = false;
        ps->i++;
    } else if (at(ps, '+')) {
        return fail(ps, "possessive quantifiers are not supported");
    }
    if (ps->i < ps->n && in_set("*+?", ps->p[ps->i])) {
        return fail(ps, "multiple repeat");
    }
    int r = new_node(ps, N_REPEAT, 0, atom, -1);
    ps->nodes[r].min = min;
    ps->nodes[r].max = max;
    ps->nodes[r].greedy = greedy;
    return r;
}

static int parse_cat(struct parser *ps)
{
    int node = new_node(ps, N_EMPTY, 0, -1, -1);
    while (ps->i < ps->n && !at(ps, '|') && !at(ps, ')')) {
        int next = parse_repeat(ps);
        if (next < 0) {
            return -1;
        }
        node = ps->nodes[node].kind == N_EMPTY ? next : new_node(ps, N_CAT, 0, node, next);
    }
    return node;
}

static int parse_alt(struct parser *ps)
{
    int left = parse_cat(ps);
    while (left >= 0 && at(ps, '|')) {
        ps->i++;
        int right = parse_cat(ps);
        left = right < 0 ? -1 : new_node(ps, N_ALT, 0, left, right);
    }
    return left;
}

/* ---- compiling the tree to a program ---- */

struct emitter {
    struct hret_eval_regex *re;
    const struct node *nodes;
    size_t cap;
    size_t calls; /* bounds the work of repeats of empty groups, which emit nothing */
    bool overflow;
};

static int emit(struct emitter *e, enum op op, uint32_t arg)
{
    struct hret_eval_regex *re = e->re;
    if (re->nprog >= MAX_PROGRAM) {
        e->overflow = true;
        return 0;
    }
    if (re->nprog == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        re->prog = hret_xrealloc(re->prog, e->cap * sizeof *re->prog);
    }
    re->prog[re->nprog] = (struct inst){op, arg, 0, 0};
    return (int)re->nprog++;
}

static void gen(struct emitter *e, int id);

/* x* or x*?: L1: SPLIT L2, L3; L2: MARK s; x; CHECK s L3; JMP L1; L3:
 * An iteration that matched nothing leaves the loop for what follows, as sre does. */
static void gen_star(struct emitter *e, int child, bool greedy)
{
    struct hret_eval_regex *re = e->re;
    uint32_t slot = (uint32_t)re->nslots++;
    int split = emit(e, I_SPLIT, 0);
    int body = emit(e, I_MARK, slot);
    gen(e, child);
    int check = emit(e, I_CHECK, slot);
    int jmp = emit(e, I_JMP, 0);
    if (e->overflow) {
        return;
    }
    re->prog[jmp].x = split;
    int end = (int)re->nprog;
    re->prog[check].x = end;
    re->prog[split].x = greedy ? body : end;
    re->prog[split].y = greedy ? end : body;
}

static void gen_repeat(struct emitter *e, const struct node *nd)
{
    for (int k = 0; k < nd->min && !e->overflow; k++) {
        gen(e, nd->a);
    }
    if (nd->max == REPEAT_INF) {
        gen_star(e, nd->a, nd->greedy);
        return;
    }
    /* x{0,2} = (x(x)?)? : each SPLIT may skip to the end, and as in gen_star an iteration
     * that matched nothing ends the repeat. */
    uint32_t slot = (uint32_t)e->re->nslots++;
    int *splits = hret_xmalloc((size_t)(nd->max - nd->min + 1) * 2 * sizeof *splits);
    int count = 0;
    for (int k = nd->min; k < nd->max && !e->overflow; k++) {
        splits[count++] = emit(e, I_SPLIT, 0);
        emit(e, I_MARK, slot);
        gen(e, nd->a);
        splits[count++] = emit(e, I_CHECK, slot);
    }
    int end = (int)e->re->nprog;
    for (int k = 0; k < count && !e->overflow; k += 2) {
        struct inst *in = &e->re->prog[splits[k]];
        in->x = nd->greedy ? splits[k] + 1 : end;
        in->y = nd->greedy ? end : splits[k] + 1;
        e->re->prog[splits[k + 1]].x = end;
    }
    free(splits);
}

static void gen(struct emitter *e, int id)
{
    const struct node *nd = &e->nodes[id];
    if (++e->calls > 4 * MAX_PROGRAM) {
        e->overflow = true;
    }
    if (e->overflow) {
        return;
    }
    switch (nd->kind) {
    case N_EMPTY:
        break;
    case N_CHAR:
        emit(e, I_CHAR, nd->arg);
        break;
    case N_CLASS:
        emit(e, I_CLASS, nd->arg);
        break;
    case N_ASSERT:
        emit(e, I_ASSERT, nd->arg);
        break;
    case N_CAT:
        gen(e, nd->a);
        gen(e, nd->b);
        break;
    case N_ALT: {
        int split = emit(e, I_SPLIT, 0);
        e->re->prog[split].x = (int)e->re->nprog;
        gen(e, nd->a);
        int jmp = emit(e, I_JMP, 0);
        e->re->prog[split].y = (int)e->re->nprog;
        gen(e, nd->b);
        e->re->prog[jmp].x = (int)e->re->nprog;
        break;
    }
    case N_REPEAT:
        gen_repeat(e, nd);
        break;
    }
}

void hret_eval_regex_destroy(struct hret_eval_regex *re)
{
    if (re != NULL) {
        free(re->prog);
        free(re->classes);
        free(re->items);
        free(re);
    }
}

enum hret_result hret_eval_regex_compile(const char *pattern, struct hret_eval_regex **out,
                                         struct hret_err *err)
{
    size_t len = strlen(pattern);
    struct parser ps = {.err = err};
    ps.re = hret_xcalloc(1, sizeof *ps.re);
    ps.p = hret_xmalloc((len + 1) * sizeof *ps.p);
    for (size_t i = 0; i < len;) {
        i += hret_utf8_decode(pattern + i, len - i, &ps.p[ps.n++]);
    }
    int root = -1;
    if (ps.n > MAX_PATTERN) {
        fail(&ps, "pattern too long");
    } else {
        root = parse_alt(&ps);
        if (root >= 0 && !ps.failed && ps.i < ps.n) {
            root = fail(&ps, "unbalanced parenthesis");
        }
    }
    if (root >= 0) {
        struct emitter e = {ps.re, ps.nodes, 0, 0, false};
        gen(&e, root);
        emit(&e, I_MATCH, 0);
        if (e.overflow) {
            root = fail(&ps, "pattern too large after expanding repeats");
        }
    }
    free(ps.p);
    free(ps.nodes);
    if (root < 0 || ps.failed) {
        hret_eval_regex_destroy(ps.re);
        return err != NULL ? err->code : HRET_E_INVAL;
    }
    *out = ps.re;
    return HRET_OK;
}

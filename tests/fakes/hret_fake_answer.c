#include "hret_fake_answer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_fake_decide.h"
#include "hret_hash.h"
#include "hret_json.h"
#include "hret_mem.h"

#define LP_CONFIDENT (-0.05)
#define LP_WRONG (-4.0)
#define LP_OTHER (-1.0)
#define MAX_CHOICES 128
#define MAX_TOP_LOGPROBS 20
#define PROMPT_MAX ((size_t)64 << 20)

/* The generated answer: text (borrowed from the key, the model or scratch) cut to len bytes. */
struct gen {
    const char *text;
    size_t len;
    bool cut;
    char scratch[HRET_FAKE_KEY_SCRATCH];
};

/* The log-likelihood target of a prompt: its last word and the decided answer for the text
 * before it. */
struct target {
    size_t word; /* byte offset of the last word */
    const char *decided;
    bool match;
    char scratch[HRET_FAKE_KEY_SCRATCH];
};

/* The four parallel arrays of legacy completion logprobs. */
struct lp_lists {
    cJSON *tokens;
    cJSON *token_logprobs;
    cJSON *top_logprobs;
    cJSON *text_offset;
    long long k;
};

/* Bytes in the code point at s; a malformed sequence counts as one byte. */
static size_t cp_len(const char *s, size_t avail)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 1;
    if (n > avail) {
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            return 1;
        }
    }
    return n;
}

/* Copies the token at s into tok (NUL-terminated); returns its length in bytes. */
static size_t next_token(const char *s, size_t avail, char tok[8])
{
    size_t n = cp_len(s, avail);
    memcpy(tok, s, n);
    tok[n] = '\0';
    return n;
}

static size_t count_tokens(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t off = 0; off < len; off += cp_len(s + off, len - off)) {
        count++;
    }
    return count;
}

/* Bytes taken by the first max_tokens tokens of s (all of them when max_tokens < 0). */
static size_t prefix_bytes(const char *s, size_t len, long long max_tokens)
{
    size_t off = 0;
    for (long long i = 0; off < len && (max_tokens < 0 || i < max_tokens); i++) {
        off += cp_len(s + off, len - off);
    }
    return off;
}

static void generate(const struct hret_fake_model *m, const char *prompt, size_t len,
                     long long max_tokens, struct gen *g)
{
    uint64_t h = hret_hash_fnv1a64(prompt, len);
    g->text = hret_fake_key_answer(m->key, h, m->accuracy, m->seed, g->scratch);
    if (g->text == NULL) {
        g->text = m->default_answer;
    }
    size_t full = strlen(g->text);
    g->len = prefix_bytes(g->text, full, max_tokens);
    g->cut = g->len < full;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims whitespace, then one pair of surrounding parentheses: "(A)" and " A" both give "A". */
static const char *strip_answer(const char *s, size_t *len)
{
    while (*len > 0 && is_space(s[0])) {
        s++;
        (*len)--;
    }
    while (*len > 0 && is_space(s[*len - 1])) {
        (*len)--;
    }
    if (*len >= 2 && s[0] == '(' && s[*len - 1] == ')') {
        s++;
        *len -= 2;
    }
    return s;
}

static bool same_answer(const char *a, size_t alen, const char *b, size_t blen)
{
    a = strip_answer(a, &alen);
    b = strip_answer(b, &blen);
    return alen == blen && memcmp(a, b, alen) == 0;
}

static void find_target(const struct hret_fake_model *m, const char *p, size_t len,
                        struct target *t)
{
    size_t w = len;
    while (w > 0 && !is_space(p[w - 1])) {
        w--;
    }
    t->word = w;
    t->decided = NULL;
    t->match = false;
    if (w == len) {
        return;
    }
    uint64_t h = hret_hash_fnv1a64(p, w);
    t->decided = hret_fake_key_answer(m->key, h, m->accuracy, m->seed, t->scratch);
    if (t->decided != NULL) {
        t->match = same_answer(p + w, len - w, t->decided, strlen(t->decided));
    }
}

/* An optional integer member within [min, max]; def when absent or null. */
static enum hret_result get_count(const cJSON *req, const char *key, long long def, long long min,
                                  long long max, long long *out, struct hret_err *err)
{
    *out = def;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(req, key);
    if (item == NULL || cJSON_IsNull(item)) {
        return HRET_OK;
    }
    if (hret_json_get_int(req, key, false, out, err) != HRET_OK) {
        return err->code;
    }
    if (*out < min || *out > max) {
        return hret_err_set(err, HRET_E_INVAL, "'%s': must be between %lld and %lld", key, min,
                            max);
    }
    return HRET_OK;
}

static cJSON *response_new(const struct hret_fake_model *m, const char *object,
                           const char *id_prefix)
{
    char hex[17];
    hret_hash_hex64(hret_fake_mix64(m->request_no + 0x9E3779B97F4A7C15ULL), hex);
    char id[48];
    snprintf(id, sizeof id, "%s-%s", id_prefix, hex);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "object", object);
    cJSON_AddNumberToObject(doc, "created", (double)m->created);
    cJSON_AddStringToObject(doc, "model", m->model);
    cJSON_AddStringToObject(doc, "system_fingerprint", m->fingerprint);
    return doc;
}

static void add_usage(cJSON *doc, size_t prompt_tokens, size_t completion_tokens)
{
    cJSON *u = cJSON_AddObjectToObject(doc, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt_tokens);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)completion_tokens);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt_tokens + completion_tokens));
}

static void reply_invalid(struct hret_fake_reply *out, const struct hret_err *err)
{
    hret_fake_reply_error(out, 400, "invalid_request_error", NULL, NULL, err->msg);
}

/* llama-cpp-python's answer to a prompt plus max_tokens past the context window; false when it
 * fits (or there is no window). */
static bool past_context(const struct hret_fake_model *m, size_t prompt_tokens,
                         long long max_tokens, const char *param, struct hret_fake_reply *out)
{
    long long want = (long long)prompt_tokens + (max_tokens > 0 ? max_tokens : 0);
    if (m->context_tokens <= 0 || want <= m->context_tokens) {
        return false;
    }
    char msg[256];
    snprintf(msg, sizeof msg,
             "This model's maximum context length is %ld tokens. However, you requested %lld "
             "tokens (%zu in the %s, %lld in the completion). Please reduce the length of the "
             "%s or completion.",
             m->context_tokens, want, prompt_tokens, param, max_tokens > 0 ? max_tokens : 0, param);
    hret_fake_reply_error(out, 400, "invalid_request_error", param, "context_length_exceeded", msg);
    return true;
}

static void reply_logprobs_unsupported(struct hret_fake_reply *out)
{
    hret_fake_reply_error(out, 400, "invalid_request_error", "logprobs", NULL,
                          "logprobs are not supported");
}

/* ---- chat ---- */

struct chat_req {
    const cJSON *messages;
    long long n;
    long long max_tokens; /* -1: unlimited */
    long long top_logprobs;
    bool logprobs;
};

static enum hret_result check_messages(const cJSON *messages, struct hret_err *err)
{
    if (cJSON_GetArraySize(messages) == 0) {
        return hret_err_set(err, HRET_E_INVAL, "'messages': must not be empty");
    }
    const cJSON *msg;
    cJSON_ArrayForEach(msg, messages)
    {
        const char *role;
        if (!cJSON_IsObject(msg) ||
            hret_json_get_string(msg, "role", true, &role, err) != HRET_OK) {
            return hret_err_set(err, HRET_E_INVAL, "'messages': each needs a string 'role'");
        }
    }
    return HRET_OK;
}

static enum hret_result chat_parse(const cJSON *req, struct chat_req *c, struct hret_err *err)
{
    double temperature = 1.0;
    c->logprobs = false;
    if (hret_json_get_array(req, "messages", true, &c->messages, err) != HRET_OK ||
        check_messages(c->messages, err) != HRET_OK ||
        get_count(req, "n", 1, 1, MAX_CHOICES, &c->n, err) != HRET_OK ||
        get_count(req, "max_tokens", -1, 1, INT32_MAX, &c->max_tokens, err) != HRET_OK ||
        get_count(req, "max_completion_tokens", c->max_tokens, 1, INT32_MAX, &c->max_tokens, err) !=
            HRET_OK ||
        hret_json_get_bool(req, "logprobs", false, &c->logprobs, err) != HRET_OK ||
        get_count(req, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS, &c->top_logprobs, err) != HRET_OK ||
        hret_json_get_double(req, "temperature", false, &temperature, err) != HRET_OK) {
        return err->code;
    }
    if (temperature < 0 || temperature > 2) {
        return hret_err_set(err, HRET_E_INVAL, "'temperature': must be between 0 and 2");
    }
    if (c->top_logprobs > 0 && !c->logprobs) {
        return hret_err_set(err, HRET_E_INVAL, "'top_logprobs' requires 'logprobs': true");
    }
    return HRET_OK;
}

/* Appends a message content: a string, or parts whose "text" members are concatenated. */
static void append_content(const cJSON *content, struct hret_buf *out)
{
    if (cJSON_IsString(content)) {
        (void)hret_buf_append(out, content->valuestring, strlen(content->valuestring), NULL);
        return;
    }
    const cJSON *parts = cJSON_IsArray(content) ? content : NULL;
    const cJSON *part;
    cJSON_ArrayForEach(part, parts)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(text)) {
            (void)hret_buf_append(out, text->valuestring, strlen(text->valuestring), NULL);
        }
    }
}

/* The last user message's text into prompt; returns the tokens of all messages. */
static size_t chat_prompt(const cJSON *messages, struct hret_buf *prompt)
{
    size_t tokens = 0;
    struct hret_buf text;
    hret_buf_init(&text, PROMPT_MAX);
    const cJSON *msg;
    cJSON_ArrayForEach(msg, messages)
    {
        hret_buf_reset(&text);
        append_content(cJSON_GetObjectItemCaseSensitive(msg, "content"), &text);
        tokens += count_tokens(hret_buf_str(&text), text.len);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
        if (strcmp(role->valuestring, "user") == 0) {
            hret_buf_reset(prompt);
            (void)hret_buf_append(prompt, hret_buf_str(&text), text.len, NULL);
        }
    }
    hret_buf_fini(&text);
    return tokens;
}

static cJSON *token_entry(const char *tok, double lp)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "token", tok);
    cJSON_AddNumberToObject(t, "logprob", lp);
    cJSON_AddNullToObject(t, "bytes");
    return t;
}

static cJSON *chat_logprobs(const char *text, size_t len, long long top)
{
    cJSON *lp = cJSON_CreateObject();
    cJSON *content = cJSON_AddArrayToObject(lp, "content");
    char tok[8];
    for (size_t off = 0, n; off < len; off += n) {
        n = next_token(text + off, len - off, tok);
        cJSON *t = token_entry(tok, LP_CONFIDENT);
        cJSON *tops = cJSON_AddArrayToObject(t, "top_logprobs");
        if (top > 0) {
            cJSON_AddItemToArray(tops, token_entry(tok, LP_CONFIDENT));
        }
        cJSON_AddItemToArray(content, t);
    }
    return lp;
}

void hret_fake_answer_chat(const struct hret_fake_model *m, const cJSON *req,
                           struct hret_fake_reply *out)
{
    struct hret_err err = HRET_ERR_INIT;
    struct chat_req c;
    if (chat_parse(req, &c, &err) != HRET_OK) {
        reply_invalid(out, &err);
        return;
    }
    if (c.logprobs && m->logprobs == HRET_FAKE_LOGPROBS_REJECT) {
        reply_logprobs_unsupported(out);
        return;
    }
    c.n = m->ignore_n ? 1 : c.n;
    struct hret_buf prompt;
    hret_buf_init(&prompt, PROMPT_MAX);
    size_t prompt_tokens = chat_prompt(c.messages, &prompt);
    if (past_context(m, prompt_tokens, c.max_tokens, "messages", out)) {
        hret_buf_fini(&prompt);
        return;
    }
    struct gen g;
    generate(m, hret_buf_str(&prompt), prompt.len, c.max_tokens, &g);
    hret_buf_fini(&prompt);
    char *content = hret_xstrndup(g.text, g.len);
    cJSON *doc = response_new(m, "chat.completion", "chatcmpl");
    cJSON *choices = cJSON_AddArrayToObject(doc, "choices");
    for (long long i = 0; i < c.n; i++) {
        cJSON *choice = cJSON_CreateObject();
        cJSON_AddNumberToObject(choice, "index", (double)i);
        cJSON *msg = cJSON_AddObjectToObject(choice, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        cJSON_AddStringToObject(msg, "content", content);
        if (c.logprobs && m->logprobs == HRET_FAKE_LOGPROBS_ON) {
            cJSON_AddItemToObject(choice, "logprobs",
                                  chat_logprobs(content, g.len, c.top_logprobs));
        } else {
            cJSON_AddNullToObject(choice, "logprobs");
        }
        cJSON_AddStringToObject(choice, "finish_reason", g.cut ? "length" : "stop");
        cJSON_AddItemToArray(choices, choice);
    }
    add_usage(doc, prompt_tokens, (size_t)c.n * count_tokens(content, g.len));
    free(content);
    hret_fake_reply_json(out, 200, doc);
}

/* ---- completions ---- */

struct completion_req {
    const cJSON *prompt; /* a string, or an array of strings */
    long long n;
    long long max_tokens;
    long long logprobs; /* -1: none */
    bool echo;
};

static enum hret_result check_prompt(const cJSON *prompt, struct hret_err *err)
{
    bool ok = cJSON_IsString(prompt) || (cJSON_IsArray(prompt) && cJSON_GetArraySize(prompt) > 0);
    const cJSON *items = cJSON_IsArray(prompt) ? prompt : NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, items)
    {
        ok = ok && cJSON_IsString(item);
    }
    if (!ok) {
        return hret_err_set(err, HRET_E_INVAL,
                            "'prompt': expected a string or an array of strings");
    }
    return HRET_OK;
}

static enum hret_result completion_parse(const cJSON *req, struct completion_req *c,
                                         struct hret_err *err)
{
    c->prompt = cJSON_GetObjectItemCaseSensitive(req, "prompt");
    c->echo = false;
    if (check_prompt(c->prompt, err) != HRET_OK ||
        get_count(req, "n", 1, 1, MAX_CHOICES, &c->n, err) != HRET_OK ||
        get_count(req, "max_tokens", 16, 0, INT32_MAX, &c->max_tokens, err) != HRET_OK ||
        get_count(req, "logprobs", -1, 0, MAX_TOP_LOGPROBS, &c->logprobs, err) != HRET_OK ||
        hret_json_get_bool(req, "echo", false, &c->echo, err) != HRET_OK) {
        return err->code;
    }
    return HRET_OK;
}

static void add_token(struct lp_lists *l, const char *tok, size_t offset, bool first, double lp,
                      const char *best)
{
    cJSON_AddItemToArray(l->tokens, cJSON_CreateString(tok));
    cJSON_AddItemToArray(l->text_offset, cJSON_CreateNumber((double)offset));
    if (first) {
        cJSON_AddItemToArray(l->token_logprobs, cJSON_CreateNull());
        cJSON_AddItemToArray(l->top_logprobs, cJSON_CreateNull());
        return;
    }
    cJSON_AddItemToArray(l->token_logprobs, cJSON_CreateNumber(lp));
    cJSON *top = cJSON_CreateObject();
    if (best != NULL && l->k > 0 && strcmp(best, tok) != 0) {
        cJSON_AddNumberToObject(top, best, LP_CONFIDENT);
    }
    cJSON_AddNumberToObject(top, tok, lp);
    cJSON_AddItemToArray(l->top_logprobs, top);
}

/* The echoed prompt's tokens, scored as described in the header. */
static void add_prompt_tokens(const struct hret_fake_model *m, const char *p, size_t len,
                              struct lp_lists *l)
{
    struct target t;
    find_target(m, p, len, &t);
    size_t dlen = t.decided != NULL ? strlen(t.decided) : 0;
    size_t doff = 0;
    char tok[8];
    char best[8];
    for (size_t off = 0, n; off < len; off += n) {
        n = next_token(p + off, len - off, tok);
        double lp = LP_OTHER;
        const char *best_tok = NULL;
        if (t.decided != NULL && off >= t.word) {
            lp = t.match ? LP_CONFIDENT : LP_WRONG;
            if (!t.match && doff < dlen) {
                doff += next_token(t.decided + doff, dlen - doff, best);
                best_tok = best;
            }
        }
        add_token(l, tok, off, off == 0, lp, best_tok);
    }
}

static cJSON *completion_logprobs(const struct hret_fake_model *m, const char *p, size_t len,
                                  const struct gen *g, bool echo, long long k)
{
    cJSON *lp = cJSON_CreateObject();
    struct lp_lists l = {
        cJSON_AddArrayToObject(lp, "tokens"),
        cJSON_AddArrayToObject(lp, "token_logprobs"),
        cJSON_AddArrayToObject(lp, "top_logprobs"),
        cJSON_AddArrayToObject(lp, "text_offset"),
        k,
    };
    size_t base = 0;
    if (echo) {
        add_prompt_tokens(m, p, len, &l);
        base = len;
    }
    char tok[8];
    for (size_t off = 0, n; off < g->len; off += n) {
        n = next_token(g->text + off, g->len - off, tok);
        add_token(&l, tok, base + off, false, LP_CONFIDENT, NULL);
    }
    return lp;
}

/* Adds c->n choices for one prompt from index *index on; returns the completion tokens. */
static size_t add_choices(const struct hret_fake_model *m, const struct completion_req *c,
                          const char *p, cJSON *choices, long long *index)
{
    size_t len = strlen(p);
    struct gen g;
    generate(m, p, len, c->max_tokens, &g);
    size_t echo_len = c->echo ? len : 0;
    char *text = hret_xmalloc(echo_len + g.len + 1);
    memcpy(text, p, echo_len);
    memcpy(text + echo_len, g.text, g.len);
    text[echo_len + g.len] = '\0';
    cJSON *lp = c->logprobs >= 0 ? completion_logprobs(m, p, len, &g, c->echo, c->logprobs) : NULL;
    for (long long i = 0; i < c->n; i++) {
        cJSON *choice = cJSON_CreateObject();
        cJSON_AddNumberToObject(choice, "index", (double)(*index)++);
        cJSON_AddStringToObject(choice, "text", text);
        if (lp != NULL) {
            cJSON_AddItemToObject(choice, "logprobs", i == 0 ? lp : cJSON_Duplicate(lp, true));
        } else {
            cJSON_AddNullToObject(choice, "logprobs");
        }
        cJSON_AddStringToObject(choice, "finish_reason", g.cut ? "length" : "stop");
        cJSON_AddItemToArray(choices, choice);
    }
    free(text);
    return (size_t)c->n * count_tokens(g.text, g.len);
}

void hret_fake_answer_completions(const struct hret_fake_model *m, const cJSON *req,
                                  struct hret_fake_reply *out)
{
    struct hret_err err = HRET_ERR_INIT;
    struct completion_req c;
    if (completion_parse(req, &c, &err) != HRET_OK) {
        reply_invalid(out, &err);
        return;
    }
    if ((c.echo || c.logprobs >= 0) && m->logprobs != HRET_FAKE_LOGPROBS_ON) {
        if (m->logprobs == HRET_FAKE_LOGPROBS_REJECT) {
            reply_logprobs_unsupported(out);
            return;
        }
        c.echo = false;
        c.logprobs = -1;
    }
    c.n = m->ignore_n ? 1 : c.n;
    if (cJSON_IsString(c.prompt) &&
        past_context(m, count_tokens(c.prompt->valuestring, strlen(c.prompt->valuestring)),
                     c.max_tokens, "prompt", out)) {
        return;
    }
    cJSON *doc = response_new(m, "text_completion", "cmpl");
    cJSON *choices = cJSON_AddArrayToObject(doc, "choices");
    size_t prompt_tokens = 0;
    size_t completion_tokens = 0;
    long long index = 0;
    const cJSON *items = cJSON_IsArray(c.prompt) ? c.prompt : NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, items)
    {
        prompt_tokens += count_tokens(item->valuestring, strlen(item->valuestring));
        completion_tokens += add_choices(m, &c, item->valuestring, choices, &index);
    }
    if (cJSON_IsString(c.prompt)) {
        prompt_tokens = count_tokens(c.prompt->valuestring, strlen(c.prompt->valuestring));
        completion_tokens = add_choices(m, &c, c.prompt->valuestring, choices, &index);
    }
    add_usage(doc, prompt_tokens, completion_tokens);
    hret_fake_reply_json(out, 200, doc);
}

#include "hret_judge.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_mem.h"
#include "hret_utf8.h"

static const char *const type_names[] = {"k2_eval", "rubric_and_response",
                                         "rubric_response_and_gold", "response_comparison"};

const char *hret_judge_type_name(enum hret_judge_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "?";
}

bool hret_judge_type_parse(const char *name, enum hret_judge_type *out)
{
    for (int i = 0; name != NULL && i < 4; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (enum hret_judge_type)i;
            return true;
        }
    }
    return false;
}

enum hret_result hret_judge_params(const cJSON *params, enum hret_judge_type *out,
                                   struct hret_err *err)
{
    *out = HRET_JUDGE_K2_EVAL;
    for (const cJSON *it = params ? params->child : NULL; it != NULL; it = it->next) {
        if (strcmp(it->string, "judge_type") != 0) {
            return hret_err_set(err, HRET_E_INVAL,
                                "llm_judge: unknown parameter '%s' (the only one is judge_type)",
                                it->string);
        }
        if (!cJSON_IsString(it) || !hret_judge_type_parse(it->valuestring, out)) {
            return hret_err_set(err, HRET_E_INVAL,
                                "llm_judge: judge_type must be one of k2_eval, "
                                "rubric_and_response, rubric_response_and_gold, "
                                "response_comparison");
        }
    }
    return HRET_OK;
}

/* ---- prompts (our own text; see the header) ---- */

static const char k2_head[] =
    "당신은 한국어 언어 모델의 답변을 평가하는 공정한 심사위원입니다. 아래 지시문에 대한 "
    "답변을 다음 네 가지 기준으로 평가하십시오.\n"
    "1. 완결성: 지시문이 요구한 내용을 빠짐없이 다루었는가\n"
    "2. 논리적 일관성: 설명과 추론이 모순 없이 이어지는가\n"
    "3. 유창성: 자연스럽고 문법에 맞는 한국어인가\n"
    "4. 문화적 적절성: 한국의 문화와 맥락에 맞는가\n\n"
    "### 지시문:\n";
static const char k2_tail[] =
    "\n\n평가 근거를 간단히 쓴 뒤, 1에서 5 사이의 정수 점수를 정확히 다음 형식으로 "
    "끝맺으십시오.\n"
    "Evaluation: <평가 근거>\n"
    "Score: <점수>";

static const char rubric_head[] =
    "You are a fair judge. Read the instruction, the response to evaluate and the score rubric, "
    "write short feedback that assesses the response strictly against the rubric, then give an "
    "integer score from 1 to 5.\n\n"
    "### Instruction:\n";
static const char rubric_tail[] = "\n\nEnd with exactly this format: \"Feedback: <feedback> "
                                  "[RESULT] <an integer from 1 to 5>\"";
static const char generic_rubric[] = "Is the response correct, complete, helpful and clearly "
                                     "written? 1 = not at all, 5 = fully.";

static const char gold_head[] =
    "You are a fair judge. Decide whether the response to the instruction below is correct, "
    "using the reference answer and the rubric. Minor differences in wording do not matter; "
    "a different final answer does.\n\n"
    "### Instruction:\n";
static const char gold_tail[] = "\n\nAnswer with exactly one of [[true]] or [[false]].";

static const char pair_head[] =
    "Please act as an impartial judge and compare the two responses below, written by two AI "
    "assistants for the same instruction. Decide which response follows the instruction and "
    "answers it better. Do not let the order, the length or the style of the responses "
    "influence you.\n\n"
    "### Instruction:\n";
static const char pair_tail[] = "\n\nGive your verdict in exactly this format: [[A]] or [[B]].";

static void put_stripped(struct hret_buf *b, const char *s)
{
    size_t off = 0, len = 0;
    if (s != NULL) {
        hret_utf8_strip(s, strlen(s), &off, &len);
        (void)hret_buf_append(b, s + off, len, NULL);
    }
}

static void put_section(struct hret_buf *b, const char *title, const char *value)
{
    hret_buf_appendf(b, NULL, "\n\n### %s:\n", title);
    put_stripped(b, value);
}

static const char *rubric_of(const struct hret_judge_input *in)
{
    size_t off = 0, len = 0;
    if (in->rubric != NULL) {
        hret_utf8_strip(in->rubric, strlen(in->rubric), &off, &len);
    }
    return len > 0 ? in->rubric : generic_rubric;
}

char *hret_judge_prompt(enum hret_judge_type t, const struct hret_judge_input *in)
{
    struct hret_buf b;
    hret_buf_init(&b, SIZE_MAX / 2);
    switch (t) {
    case HRET_JUDGE_RUBRIC:
        hret_buf_appendf(&b, NULL, "%s", rubric_head);
        put_stripped(&b, in->input);
        put_section(&b, "Response to evaluate", in->response);
        put_section(&b, "Score rubric", rubric_of(in));
        hret_buf_appendf(&b, NULL, "%s", rubric_tail);
        break;
    case HRET_JUDGE_RUBRIC_GOLD:
        hret_buf_appendf(&b, NULL, "%s", gold_head);
        put_stripped(&b, in->input);
        put_section(&b, "Response to evaluate", in->response);
        put_section(&b, "Reference answer", in->reference);
        put_section(&b, "Rubric", rubric_of(in));
        hret_buf_appendf(&b, NULL, "%s", gold_tail);
        break;
    case HRET_JUDGE_PAIRWISE:
        hret_buf_appendf(&b, NULL, "%s", pair_head);
        put_stripped(&b, in->input);
        put_section(&b, "Response A", in->response);
        put_section(&b, "Response B", in->response_b);
        hret_buf_appendf(&b, NULL, "%s", pair_tail);
        break;
    case HRET_JUDGE_K2_EVAL:
    default:
        hret_buf_appendf(&b, NULL, "%s", k2_head);
        put_stripped(&b, in->input);
        put_section(&b, "답변", in->response);
        hret_buf_appendf(&b, NULL, "%s", k2_tail);
        break;
    }
    return hret_buf_take(&b);
}

/* ---- parsing ---- */

/* The value 0-9 of a decimal digit (category Nd): Unicode puts every Nd digit in a run of ten
 * consecutive code points valued 0..9, so the distance to the run's start, modulo 10. */
static int digit_value(uint32_t cp)
{
    uint32_t start = cp;
    while (start > 0 && cp - start < 64 && hret_utf8_is_decimal(start - 1)) {
        start--;
    }
    return (int)((cp - start) % 10);
}

/* \d+ at s[*i]: appends the ASCII digits to num; false (nothing consumed) when there is none. */
static bool digits(const char *s, size_t n, size_t *i, struct hret_buf *num)
{
    size_t j = *i;
    while (j < n) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + j, n - j, &cp);
        if (!hret_utf8_is_decimal(cp)) {
            break;
        }
        char c = (char)('0' + digit_value(cp));
        (void)hret_buf_append(num, &c, 1, NULL);
        j += k;
    }
    bool any = j > *i;
    *i = j;
    return any;
}

/* marker\s*(\d+(?:\.\d+)?), first match: the number in ASCII (caller owns result) or NULL. */
static char *find_number_after(const char *s, const char *marker)
{
    size_t n = strlen(s), mlen = strlen(marker);
    struct hret_buf num;
    hret_buf_init(&num, n + 1);
    for (const char *p = strstr(s, marker); p != NULL; p = strstr(p + 1, marker)) {
        size_t i = (size_t)(p - s) + mlen;
        while (i < n) {
            uint32_t cp;
            size_t k = hret_utf8_decode(s + i, n - i, &cp);
            if (!hret_utf8_is_space(cp)) {
                break;
            }
            i += k;
        }
        hret_buf_reset(&num);
        if (!digits(s, n, &i, &num)) {
            continue;
        }
        size_t whole = num.len, j = i + 1;
        if (i < n && s[i] == '.') {
            (void)hret_buf_append(&num, ".", 1, NULL);
            if (!digits(s, n, &j, &num)) {
                num.len = whole; /* "(?:\.\d+)?" does not match: the number ends before '.' */
                num.data[whole] = '\0';
            }
        }
        return hret_buf_take(&num);
    }
    hret_buf_fini(&num);
    return NULL;
}

/* The first of the bracketed tokens found in s (their index), or -1. */
static int first_token(const char *s, const char *const *tokens, int count)
{
    const char *best = NULL;
    int which = -1;
    for (int t = 0; t < count; t++) {
        const char *p = strstr(s, tokens[t]);
        if (p != NULL && (best == NULL || p < best)) {
            best = p;
            which = t;
        }
    }
    return which;
}

void hret_judge_parse(enum hret_judge_type t, const char *text, const char *reference,
                      struct hret_verdict *out)
{
    static const char *const ab[] = {"[[A]]", "[[B]]"};
    static const char *const tf[] = {"[[true]]", "[[false]]"};
    const char *s = text ? text : "";
    size_t off = 0, len = 0;
    const char *ref = reference ? reference : "";
    hret_utf8_strip(ref, strlen(ref), &off, &len);
    *out = (struct hret_verdict){false, true, NAN, NULL, hret_xstrndup(ref + off, len)};
    char *parsed = NULL;
    int which;
    switch (t) {
    case HRET_JUDGE_PAIRWISE:
        which = first_token(s, ab, 2);
        if (which >= 0) {
            parsed = hret_xstrdup(which == 0 ? "A" : "B");
            out->correct = strcmp(parsed, out->normalized_ref) == 0;
        }
        break;
    case HRET_JUDGE_RUBRIC_GOLD:
        which = first_token(s, tf, 2);
        if (which >= 0) {
            parsed = hret_xstrdup(which == 0 ? "true" : "false");
            out->correct = which == 0;
        }
        break;
    case HRET_JUDGE_RUBRIC:
    case HRET_JUDGE_K2_EVAL:
    default:
        parsed = find_number_after(s, t == HRET_JUDGE_RUBRIC ? "[RESULT]" : "Score:");
        if (parsed != NULL) {
            out->score = strtod(parsed, NULL);
        }
        break;
    }
    out->parse_failure = parsed == NULL;
    out->normalized_pred = parsed ? parsed : hret_xstrdup("");
}

/* External evaluators (config `evaluators.<name>`): a batch of samples is written as `hret score`
 * JSONL to the command's stdin (one object per sample: id, subset, prediction, reference,
 * options, params) and one verdict per line is read from its stdout, in order:
 *   {"is_correct": true, "score": 1.0, "normalized_pred": "A", "normalized_ref": "A"}
 * (is_correct required; score defaults to 1/0, normalized_pred/_ref to the prediction and the
 * reference). The command runs without a shell in its own process group, with a minimal
 * environment (PATH, HOME, LANG, LC_ALL, TMPDIR, TZ: no secrets), under the entry's timeout_ms.
 *
 * What becomes an error (never a wrong answer), with its reason:
 *   every sample   the command cannot start, exits non-zero or by a signal, times out (its
 *                  process group is killed), or writes more than HRET_EVAL_EXTERNAL_TOTAL_CAP;
 *   one sample     its line is not a verdict (malformed) or exceeds HRET_EVAL_EXTERNAL_LINE_CAP;
 *   the tail       the output ends before every sample has its line (short output).
 * Lines past the last sample are ignored. */
#ifndef HRET_EVAL_EXTERNAL_H
#define HRET_EVAL_EXTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_err.h"
#include "hret_sample.h"

#define HRET_EVAL_EXTERNAL_LINE_CAP ((size_t)1 << 20)    /* bytes of one verdict line */
#define HRET_EVAL_EXTERNAL_TOTAL_CAP ((size_t)256 << 20) /* bytes of the whole output */

struct hret_eval_external_item {
    const struct hret_sample *sample; /* borrowed */
    const char *prediction;           /* borrowed; NULL scores as "" */
};

/* Scores items[0..n) with the evaluator ev (borrowed); params (borrowed, nullable object) is
 * sent with each line. For each i, either verdicts[i] is filled (caller frees with
 * hret_verdict_fini) and errors[i] stays NULL, or errors[i] gets the reason (caller frees) and
 * verdicts[i] stays zeroed. Both arrays of n are zeroed by the caller. Returns HRET_OK when
 * every item got a verdict, else the code of the first failure with its reason in err. */
enum hret_result hret_eval_external_score(const struct hret_evaluator_config *ev,
                                          const cJSON *params,
                                          const struct hret_eval_external_item *items, size_t n,
                                          struct hret_verdict *verdicts, char **errors,
                                          struct hret_err *err);

/* Parses one verdict line (line borrowed, len bytes, no newline) into out (caller frees with
 * hret_verdict_fini); prediction/reference (borrowed, nullable) are the normalized defaults.
 * HRET_E_PROTO with the reason on anything but a verdict object. */
enum hret_result hret_eval_external_parse(const char *line, size_t len, const char *prediction,
                                          const char *reference, struct hret_verdict *out,
                                          struct hret_err *err);

#endif

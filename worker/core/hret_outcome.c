#include "hret_outcome.h"

#include <stdlib.h>
#include <string.h>

void hret_outcome_fini(struct hret_outcome *o)
{
    free(o->prediction);
    free(o->finish_reason);
    free(o->error);
    hret_verdict_fini(&o->verdict);
    hret_strlist_fini(&o->paths);
    hret_strlist_fini(&o->path_answers);
    free(o->option_logprobs);
    free(o->judge_prompt);
    free(o->judge_output);
    memset(o, 0, sizeof *o);
}

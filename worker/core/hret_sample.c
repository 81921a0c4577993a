#include "hret_sample.h"

#include <stdlib.h>
#include <string.h>

void hret_sample_fini(struct hret_sample *s)
{
    free(s->id);
    free(s->subset);
    free(s->input);
    free(s->reference);
    hret_strlist_fini(&s->options);
    cJSON_Delete(s->metadata);
    memset(s, 0, sizeof *s);
}

void hret_verdict_fini(struct hret_verdict *v)
{
    free(v->normalized_pred);
    free(v->normalized_ref);
    memset(v, 0, sizeof *v);
}

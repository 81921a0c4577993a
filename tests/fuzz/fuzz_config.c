/* The configuration loader (YAML through the field tables) on any text. hret_config_load reads a
 * file and adds the environment and one cross-check; the parsing is hret_cfg_load_text, fuzzed
 * here in memory. A config that loads must dump to YAML that loads to the same dump
 * (`hret config show` round trip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cfg.h"
#include "hret_config.h"
#include "hret_fuzz.h"

static char *dump(const struct hret_config *cfg, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (f == NULL) {
        abort();
    }
    hret_cfg_dump(&hret_config_table, cfg, f);
    fclose(f);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_config cfg = {0};
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r = hret_cfg_load_text(&hret_config_table, &cfg, "fuzz.yaml",
                                            (const char *)data, size, &problems, &err);
    if (r == HRET_OK) {
        size_t n1 = 0, n2 = 0;
        char *first = dump(&cfg, &n1);
        struct hret_config again = {0};
        struct hret_strlist problems2 = {0};
        if (hret_cfg_load_text(&hret_config_table, &again, "dump", first, n1, &problems2, NULL) !=
            HRET_OK) {
            fprintf(stderr, "dump does not reload: %s\n%s\n",
                    problems2.count > 0 ? problems2.items[0] : "", first);
            abort();
        }
        char *second = dump(&again, &n2);
        if (strcmp(first, second) != 0) {
            fprintf(stderr, "dump differs after reload:\n%s\n---\n%s\n", first, second);
            abort();
        }
        free(first);
        free(second);
        hret_strlist_fini(&problems2);
        hret_config_fini(&again);
    }
    hret_strlist_fini(&problems);
    hret_config_fini(&cfg);
    return 0;
}

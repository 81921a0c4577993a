/* Exit statuses shared by every command and role: the README's exit-code table ("Exit status"),
 * which tests/integration/test_exit_codes.sh keeps equal to this enum. */
#ifndef HRET_EXIT_H
#define HRET_EXIT_H

enum {
    HRET_EXIT_OK = 0,
    HRET_EXIT_FAILURE = 1,       /* the work failed (endpoint, database, broker...) */
    HRET_EXIT_USAGE = 2,         /* bad arguments, a missing input, an unknown run, bad config */
    HRET_EXIT_TIMEOUT = 3,       /* hret submit --wait gave up waiting */
    HRET_EXIT_INTERRUPTED = 130, /* SIGINT: what finished is kept, marked partial */
    HRET_EXIT_TERMINATED = 143,  /* SIGTERM: the same */
};

#endif

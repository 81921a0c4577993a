/* Exit statuses shared by every command and role (the README's exit-code table). */
#ifndef HRET_EXIT_H
#define HRET_EXIT_H

enum {
    HRET_EXIT_OK = 0,
    HRET_EXIT_FAILURE = 1, /* the work failed (endpoint, database, broker...) */
    HRET_EXIT_USAGE = 2,   /* bad arguments or configuration, or a command not built yet */
};

#endif

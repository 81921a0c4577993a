/* Delayed responses without a thread per request: the access handler suspends its MHD
 * connection and a single timer thread (a min-heap of deadlines) resumes it when due. */
#ifndef HRET_FAKE_DELAY_H
#define HRET_FAKE_DELAY_H

#include <stdbool.h>

#include <microhttpd.h>

struct hret_fake_delay;

/* Starts the timer thread. Caller owns result; aborts if the thread cannot start. */
struct hret_fake_delay *hret_fake_delay_new(void);
/* Stops the thread; call hret_fake_delay_drain first. NULL is a no-op. */
void hret_fake_delay_destroy(struct hret_fake_delay *d);

/* From conn's access handler: suspends conn (borrowed) and resumes it after ms. The handler is
 * then called again and must call hret_fake_delay_resumed. Returns false, without suspending,
 * once draining has begun: the caller answers at once. */
bool hret_fake_delay_suspend(struct hret_fake_delay *d, struct MHD_Connection *conn, long ms);
/* Records that a connection suspended here was resumed and seen by its handler (or completed).
 * Returns true once draining has begun: the server is going away and closes the connection. */
bool hret_fake_delay_resumed(struct hret_fake_delay *d);
/* Resumes every suspended connection now, refuses new suspensions and waits up to timeout_ms
 * for the handlers to see the resumptions (MHD_stop_daemon must not meet a suspended
 * connection). Returns true when none is left outstanding. */
bool hret_fake_delay_drain(struct hret_fake_delay *d, long timeout_ms);

#endif

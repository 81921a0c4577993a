/* A response of the fake model server as data (status, body, headers to add) and the bodies that
 * are not answers: OpenAI, vLLM and proxy error shapes, and the deliberately broken 200s. Pure
 * functions, no I/O; the server turns a reply into an MHD response. */
#ifndef HRET_FAKE_REPLY_H
#define HRET_FAKE_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* How the server treats logprob requests: answer them, ignore them silently (logprobs:null, echo
 * ignored, like llama.cpp) or refuse them with a 400. */
enum hret_fake_logprobs {
    HRET_FAKE_LOGPROBS_ON,
    HRET_FAKE_LOGPROBS_OFF,
    HRET_FAKE_LOGPROBS_REJECT,
};

struct hret_fake_reply {
    unsigned status;
    char *body; /* owned (free()); NULL before a reply is set */
    size_t len;
    const char *content_type; /* static string */
    long retry_after_s;       /* >= 0: send Retry-After and retry-after-ms */
    bool close;               /* send Connection: close */
};

void hret_fake_reply_init(struct hret_fake_reply *r);
void hret_fake_reply_fini(struct hret_fake_reply *r); /* frees the body, back to init state */

/* Sets a JSON reply; takes ownership of doc (deleted here). */
void hret_fake_reply_json(struct hret_fake_reply *r, unsigned status, cJSON *doc);
/* OpenAI error shape {"error":{"message","type","param","code"}}; param and code nullable;
 * all strings borrowed. */
void hret_fake_reply_error(struct hret_fake_reply *r, unsigned status, const char *type,
                           const char *param, const char *code, const char *message);
/* 429: code "rate_limit_exceeded" with Retry-After, or "insufficient_quota" without. */
void hret_fake_reply_rate_limited(struct hret_fake_reply *r, bool quota, long retry_after_s);
/* Any status forced by x-fake-status, with an OpenAI-shaped error body (429 as above). */
void hret_fake_reply_forced(struct hret_fake_reply *r, unsigned status, long retry_after_s);
/* vLLM's flat 500 {"object":"error",...,"code":500}. */
void hret_fake_reply_vllm_500(struct hret_fake_reply *r);
/* The HTML 503 a reverse proxy sends when the model is down. */
void hret_fake_reply_proxy_503(struct hret_fake_reply *r);
/* 503 for a request still held when the server stops; the connection is closed after it. */
void hret_fake_reply_shutting_down(struct hret_fake_reply *r);

/* Replaces the body with text that is not JSON. */
void hret_fake_reply_malform(struct hret_fake_reply *r);
/* Cuts the body in half (the length follows, so the HTTP framing stays valid). */
void hret_fake_reply_truncate(struct hret_fake_reply *r);
/* Pads a JSON object body with a "padding" member to about bytes in total. */
void hret_fake_reply_pad(struct hret_fake_reply *r, size_t bytes);

#endif

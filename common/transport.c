/* transport: ZeroMQ socket setup and whole-message I/O (see transport.h). */
#include "transport.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "uuid.h"

void transport_options_default(transport_options_t *opt)
{
    opt->max_frame = 1024 * 1024;
    opt->sndhwm = 10000;
    opt->rcvhwm = 10000;
    opt->heartbeat_ms = 2000;
}

void *transport_socket(void *ctx, int type, const transport_options_t *opt)
{
    void *sock = zmq_socket(ctx, type);
    if (!sock)
        return NULL;
    int linger = 0;
    /* MAXMSGSIZE counts whole messages; the identity and topic frames are
     * small, so a little headroom above the frame limit suffices. */
    int64_t maxmsg = opt->max_frame > 0 ? opt->max_frame + 4096 : -1;
    int rc = zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    rc |= zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    rc |= zmq_setsockopt(sock, ZMQ_SNDHWM, &opt->sndhwm, sizeof opt->sndhwm);
    rc |= zmq_setsockopt(sock, ZMQ_RCVHWM, &opt->rcvhwm, sizeof opt->rcvhwm);
    if (opt->heartbeat_ms > 0) {
        int ttl = opt->heartbeat_ms * 3;
        rc |= zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &opt->heartbeat_ms, sizeof(int));
        rc |= zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof ttl);
        rc |= zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    }
    if (type == ZMQ_ROUTER) {
        /* An unroutable reply must fail loudly, not vanish. */
        int one = 1;
        rc |= zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    }
    if (rc != 0) {
        int saved = errno;
        zmq_close(sock);
        errno = saved;
        return NULL;
    }
    return sock;
}

int transport_recv(void *sock, transport_msg_t *msg, int flags)
{
    msg->count = 0;
    msg->truncated = 0;
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        /* Only the first frame may be absent; the rest of a message is
         * already queued once its first frame is. */
        if (zmq_msg_recv(&part, sock, msg->count == 0 && !msg->truncated ? flags : 0) < 0) {
            int saved = errno;
            zmq_msg_close(&part);
            transport_msg_close(msg);
            errno = saved;
            return -1;
        }
        more = zmq_msg_more(&part);
        if (msg->count < TRANSPORT_MAX_FRAMES) {
            msg->frames[msg->count++] = part;
        } else {
            msg->truncated = 1;
            zmq_msg_close(&part);
        }
    }
    return 0;
}

void transport_msg_close(transport_msg_t *msg)
{
    for (int i = 0; i < msg->count; i++)
        zmq_msg_close(&msg->frames[i]);
    msg->count = 0;
}

const void *transport_frame_data(transport_msg_t *msg, int i)
{
    return zmq_msg_data(&msg->frames[i]);
}

size_t transport_frame_size(transport_msg_t *msg, int i)
{
    return zmq_msg_size(&msg->frames[i]);
}

int transport_send(void *sock, const void *const *data, const size_t *lens, int n, int flags)
{
    for (int i = 0; i < n; i++) {
        int f = flags | (i + 1 < n ? ZMQ_SNDMORE : 0);
        if (zmq_send(sock, data[i], lens[i], f) < 0)
            return -1;
    }
    return 0;
}

static int64_t transport_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int transport_await_reply(void *sock, const uint8_t id[UUID_LEN], int64_t timeout_ms,
                          envelope_t **reply)
{
    *reply = NULL;
    int64_t deadline = transport_monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - transport_monotonic_ms();
        if (left <= 0)
            return 0;
        zmq_pollitem_t item = {.socket = sock, .events = ZMQ_POLLIN};
        int n = zmq_poll(&item, 1, (long)left);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        transport_msg_t m;
        if (transport_recv(sock, &m, ZMQ_DONTWAIT) != 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return -1;
        }
        envelope_t *env = NULL;
        int err = m.truncated ? ENVELOPE_MALFORMED
                              : envelope_decode(transport_frame_data(&m, m.count - 1),
                                                transport_frame_size(&m, m.count - 1),
                                                ENVELOPE_DEFAULT_MAX_FRAME, &env);
        transport_msg_close(&m);
        if (err != ENVELOPE_OK) {
            log_warn("reply skipped", "error=\"%s\"", envelope_error_text(err));
            continue;
        }
        if (env->has_correlation_id && memcmp(env->correlation_id.data, id, UUID_LEN) == 0) {
            *reply = env;
            return 1;
        }
        envelope_free(&env);
    }
}

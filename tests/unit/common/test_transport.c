/* transport_await_reply: the answer to one request, past everything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "transport.h"
#include "uuid.h"

/* Sends a Reply-typed envelope correlated with `to` from the ROUTER. */
static void answer(void *router, zmq_msg_t *identity, const uint8_t to[UUID_LEN])
{
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, "unit", "concerto.common.v1.Reply", NULL, 0);
    env.has_correlation_id = 1;
    env.correlation_id.data = (uint8_t *)to;
    env.correlation_id.len = UUID_LEN;
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    const void *data[2] = {zmq_msg_data(identity), frame};
    size_t lens[2] = {zmq_msg_size(identity), len};
    assert_int_equal(transport_send(router, data, lens, 2, 0), 0);
    free(frame);
}

static void test_await_skips_garbage_and_other_answers(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    void *ctx = zmq_ctx_new();
    transport_options_t opt;
    transport_options_default(&opt);
    void *router = transport_socket(ctx, ZMQ_ROUTER, &opt);
    void *dealer = transport_socket(ctx, ZMQ_DEALER, &opt);
    assert_int_equal(zmq_bind(router, "inproc://await"), 0);
    assert_int_equal(zmq_connect(dealer, "inproc://await"), 0);
    assert_int_equal(zmq_send(dealer, "hello", 5, 0), 5);
    transport_msg_t m;
    assert_int_equal(transport_recv(router, &m, 0), 0);
    zmq_msg_t identity;
    zmq_msg_init(&identity);
    zmq_msg_copy(&identity, &m.frames[0]);
    transport_msg_close(&m);

    uint8_t mine[UUID_LEN], other[UUID_LEN];
    uuid7_generate(mine);
    uuid7_generate(other);
    envelope_t *reply = NULL;
    assert_int_equal(transport_await_reply(dealer, mine, 20, &reply), 0);
    assert_null(reply);

    const void *garbage[2] = {zmq_msg_data(&identity), "\xff\xff"};
    size_t lens[2] = {zmq_msg_size(&identity), 2};
    assert_int_equal(transport_send(router, garbage, lens, 2, 0), 0);
    answer(router, &identity, other);
    answer(router, &identity, mine);
    assert_int_equal(transport_await_reply(dealer, mine, 2000, &reply), 1);
    assert_memory_equal(reply->correlation_id.data, mine, UUID_LEN);
    envelope_free(&reply);
    assert_int_equal(transport_await_reply(dealer, mine, 20, &reply), 0);

    zmq_msg_close(&identity);
    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_await_skips_garbage_and_other_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

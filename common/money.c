/* money: integer cents, split to the cent and summed with checks (see
 * money.h). */
#include "money.h"

#include <stdio.h>
#include <string.h>

/* Largest remainder first; then the larger share; then the earlier part. */
static int money_before(const int64_t *rem, const uint32_t *shares, size_t a, size_t b)
{
    if (rem[a] != rem[b])
        return rem[a] > rem[b];
    if (shares[a] != shares[b])
        return shares[a] > shares[b];
    return a < b;
}

int money_split(int64_t amount, const uint32_t *shares_bp, size_t n, int64_t *parts)
{
    if (amount < 0 || n == 0 || n > MONEY_MAX_PARTS)
        return -1;
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (shares_bp[i] > MONEY_BP_WHOLE)
            return -1;
        total += shares_bp[i];
    }
    if (total != MONEY_BP_WHOLE)
        return -1;
    int64_t frac = amount % MONEY_BP_WHOLE;
    int64_t rem[MONEY_MAX_PARTS], given = 0;
    for (size_t i = 0; i < n; i++) {
        parts[i] = money_portion(amount, shares_bp[i]);
        rem[i] = frac * shares_bp[i] % MONEY_BP_WHOLE;
        given += parts[i];
    }
    /* Fewer cents are left than there are parts: each goes to the best
     * remainder not yet served. */
    int served[MONEY_MAX_PARTS] = {0};
    for (int64_t left = amount - given; left > 0; left--) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!served[i] && (best == n || money_before(rem, shares_bp, i, best)))
                best = i;
        served[best] = 1;
        parts[best]++;
    }
    return 0;
}

int64_t money_portion(int64_t amount, uint32_t bp)
{
    return amount / MONEY_BP_WHOLE * bp + amount % MONEY_BP_WHOLE * bp / MONEY_BP_WHOLE;
}

int money_add(int64_t a, int64_t b, int64_t *sum)
{
    int64_t s;
    if (__builtin_add_overflow(a, b, &s))
        return -1;
    *sum = s;
    return 0;
}

char *money_text(int64_t cents, char out[MONEY_TEXT_LEN])
{
    /* The magnitude as unsigned, so that INT64_MIN has one too. */
    uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)(mag / 100));
    char *p = out;
    if (cents < 0)
        *p++ = '-';
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            *p++ = ',';
        *p++ = digits[i];
    }
    snprintf(p, (size_t)(out + MONEY_TEXT_LEN - p), ".%02u", (unsigned)(mag % 100));
    return out;
}

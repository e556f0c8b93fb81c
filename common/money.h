/* money: amounts of money as integer cents (CAD) in int64_t, as the wire
 * carries them (fields named *_cents). Never floating point.
 *
 * money_split divides an amount between shares given in basis points
 * (10,000 make the whole) so that the parts add up to the amount exactly:
 * largest-remainder rounding. Each part first gets the whole cents of its
 * share, floor(amount * share / 10,000); the cents left over (fewer than
 * the number of parts) go one each to the parts whose cut fractions were
 * largest. Ties go to the larger share, and between equal shares to the
 * earlier part, so the caller's order of parts (funders sorted by id)
 * settles the rest. The arithmetic never overflows: amount * share is
 * computed as (amount / 10,000) * share + (amount % 10,000) * share /
 * 10,000, each term at most the amount.
 *
 * Sums that could leave int64_t are checked (money_add) and refused by the
 * caller, never wrapped. */
#ifndef CONCERTO_MONEY_H
#define CONCERTO_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Basis points in the whole: shares of one split add up to this. */
#define MONEY_BP_WHOLE 10000
/* Parts one split takes at most. */
#define MONEY_MAX_PARTS 64
/* "-92,233,720,368,547,758.08" and its NUL. */
#define MONEY_TEXT_LEN 32

/* Splits `amount` (>= 0) between the `n` shares (basis points, each at
 * most MONEY_BP_WHOLE, together exactly MONEY_BP_WHOLE) into `parts`.
 * Returns 0, or -1 when the amount is negative, n is 0 or over
 * MONEY_MAX_PARTS, or the shares do not make the whole (parts untouched). */
int money_split(int64_t amount, const uint32_t *shares_bp, size_t n, int64_t *parts);

/* floor(amount * bp / MONEY_BP_WHOLE) for 0 <= amount and bp <=
 * MONEY_BP_WHOLE, without overflow: the whole cents of a share. */
int64_t money_portion(int64_t amount, uint32_t bp);

/* a + b into *sum; returns 0, or -1 when the sum cannot be represented
 * (*sum untouched). */
int money_add(int64_t a, int64_t b, int64_t *sum);

/* "1,234.56" (with "-" before a negative amount): dollars with thousands
 * separators and two decimals, for messages. Returns `out`. */
char *money_text(int64_t cents, char out[MONEY_TEXT_LEN]);

#endif

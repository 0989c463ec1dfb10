# gen-prefix.awk - the digits after +84 of the i-th prefix (i >= 1) of the
# generated rate deck, shared by scripts/gen-tariff (which lists them) and
# scripts/gen-cdrs (which calls them).  Ranks 1-90 are the two-digit prefixes,
# then the three-, four- and five-digit ones; within a length the order is
# shuffled by a multiplier prime to the count, so that every prefix appears
# once and a popular rank is not always the numerically smallest.
function prefix_digits(i,   lo, size) {
	lo = 10; size = 90
	while (i > size && lo < 10000000) { i -= size; lo *= 10; size *= 10 }
	return sprintf("%d", lo + ((i - 1) * 7919) % size)
}

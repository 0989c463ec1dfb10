# gen-prefix.awk - the digits after +84 of the i-th prefix (i >= 1) of the
# generated rate deck, shared by scripts/gen-tariff (which lists them) and
# scripts/gen-cdrs (which calls them).  Ranks 1-90 are all the two-digit
# prefixes; then come 300 of the 900 three-digit ones, 3,000 of the 9,000
# four-digit ones and so on, so that a shorter prefix still rates the calls
# that no longer one under it takes.  Within a length the numbers are spread
# by a multiplier prime to their count: every prefix appears once.
function prefix_digits(i,   lo, space, take) {
	lo = 10; space = 90; take = 90
	while (i > take && lo < 10000000) { i -= take; lo *= 10; space *= 10; take = space / 3 }
	return sprintf("%d", lo + ((i - 1) * 7919) % space)
}

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tally/terr.h"

int
terr_set(struct terr *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

size_t
tally_strlcpy(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);

	if (dstlen > 0) {
		size_t c = n < dstlen - 1 ? n : dstlen - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void
tally_utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, lead;

	/* back over continuation bytes to the start of the last character */
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && n - i < 3)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	if (lead >= 0xc0) {
		size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

		if (n - (i - 1) < want)
			s[i - 1] = '\0';
	}
}

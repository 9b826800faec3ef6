// SPDX-License-Identifier: GPL-2.0-only
#include "util/curl_body.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

size_t curl_body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct curl_body *b = userdata;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > b->max) {
		b->too_big = 1;
		return 0;
	}
	p = realloc(b->buf, b->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->buf = p;
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void curl_body_global_init(void)
{
	pthread_once(&once, global_init);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The two pieces every libcurl GET of mcpwire shares (docker/engine.c,
 * attrib/kubelet.c): a bounded response body and libcurl's one-time global
 * set-up. The bound keeps a hostile or broken peer from growing our memory.
 */
#ifndef MCPWIRE_UTIL_CURL_BODY_H
#define MCPWIRE_UTIL_CURL_BODY_H

#include <stddef.h>

/* A response body, NUL-terminated in buf (malloc'd; the caller frees it).
 * Set max before the transfer; too_big says the peer sent more than max. */
struct curl_body {
	char *buf;
	size_t len;
	size_t max;
	int too_big;
};

/* CURLOPT_WRITEFUNCTION for a struct curl_body given as CURLOPT_WRITEDATA.
 * Past body->max bytes (or out of memory) it returns 0, which makes libcurl
 * end the transfer with CURLE_WRITE_ERROR. */
size_t curl_body_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* curl_global_init(CURL_GLOBAL_DEFAULT), once per process, from any thread. */
void curl_body_global_init(void);

#endif

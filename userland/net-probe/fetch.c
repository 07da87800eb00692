/*
 * `net-probe fetch NAME PORT PATH`: what a program that talks to a service by name
 * does. Resolves NAME with getaddrinfo (musl asks every nameserver of
 * /etc/resolv.conf at once and takes the first answer that is not a refusal),
 * connects to its first IPv4 address, sends `GET PATH HTTP/1.0` and prints the
 * response's body. Exits 0 on a 200 answer, 2 if NAME does not resolve, 3 if the
 * connection fails, 4 on any other answer.
 */
#include "probe.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fetch_mode(const char *name, const char *port, const char *path)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo *found = NULL;
	int err = getaddrinfo(name, port, &hints, &found);
	if (err != 0) {
		fprintf(stderr, "fetch: %s: %s\n", name, gai_strerror(err));
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, found->ai_addr, found->ai_addrlen) < 0) {
		perror("fetch: connect");
		freeaddrinfo(found);
		return 3;
	}
	freeaddrinfo(found);
	char request[512];
	int len = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, name);
	if (len < 0 || (size_t)len >= sizeof request || write(fd, request, (size_t)len) != len) {
		perror("fetch: write");
		return 3;
	}
	static char response[65536];
	size_t have = 0;
	ssize_t n;
	while (have < sizeof response - 1 && (n = read(fd, response + have, sizeof response - 1 - have)) > 0)
		have += (size_t)n;
	response[have] = 0;
	close(fd);
	char *body = strstr(response, "\r\n\r\n");
	fputs(body ? body + 4 : "", stdout);
	return strncmp(response, "HTTP/1.0 200", 12) == 0 || strncmp(response, "HTTP/1.1 200", 12) == 0 ? 0 : 4;
}

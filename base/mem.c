/* mem.c -- the resident set read from /proc, and freed heap given back to
 * the system through glibc's malloc_trim.  Reads and trims only; never
 * allocates or frees for anyone. */
#include "mem.h"

#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

uint64_t mem_rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size, res = 0;

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

bool mem_give_back(void)
{
	return malloc_trim(0) == 1;
}

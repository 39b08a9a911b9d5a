// SPDX-License-Identifier: GPL-2.0
/*
 * goallocstat: print goalloc's heap and per-size-class counters.
 *
 *   goallocstat [--json] [--all] [DEV]
 *   goallocstat --caches [FILE]
 *
 * The counters come from GOALLOC_IOC_STATS on a fresh arena opened only for
 * the query (it holds no memory and is never mapped; it is counted in
 * "arenas open").  The heap and class counters are goalloc-wide: kernel
 * callers and every arena together.
 *
 * --caches prints the named caches' table (goalloc_cache_create(), slabinfo's
 * columns) from debugfs, /sys/kernel/debug/goalloc/caches unless FILE says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libgoalloc.h"

#define PROG	"goallocstat"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Per-class columns of the table. */
enum { C_CLASS, C_OBJ, C_SPAN, C_PERSPAN, C_INUSE, C_SPANS, C_HELD, C_NALLOC, C_NFREE, NCOLS };

static const char *const col_title[NCOLS] = {
	"class", "obj size", "span bytes", "objs/span", "in use", "spans", "held", "nalloc",
	"nfree",
};

#define CELL	24

static void show_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--json] [--all] [DEV] | --caches [FILE]\n"
		"Print goalloc's heap and size-class counters (GOALLOC_IOC_STATS).\n"
		"  -j, --json   one JSON object: {\"heap\":{...},\"classes\":[...]}\n"
		"  -a, --all    every size class, also those never used\n"
		"  -c, --caches the named caches (debugfs goalloc/caches, or FILE) instead\n"
		"  -h, --help   this text\n"
		"DEV defaults to $" LIBGOALLOC_DEV_ENV ", else " LIBGOALLOC_DEFAULT_DEV ".\n");
}

/* A hint after an error of open() or of the ioctl, or "". */
static const char *hint(int err, int at_open)
{
	if (at_open && (err == ENOENT || err == ENODEV || err == ENXIO))
		return " (is goalloc.ko loaded?)";
	if (at_open && (err == EACCES || err == EPERM))
		return " (try as root)";
	if (!at_open && err == EPERM)
		return " (the per-class view needs CAP_PERFMON or CAP_SYS_ADMIN)";
	if (!at_open && (err == ENOTTY || err == EINVAL))
		return " (not a goalloc device, or a goalloc without GOALLOC_IOC_STATS?)";
	return "";
}

/* "12.0 MiB" for @v bytes. */
static const char *human(char *buf, size_t len, unsigned long long v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	unsigned int u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%llu B", v);
		return buf;
	}
	while (d >= 1024 && u + 1 < ARRAY_SIZE(unit)) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

static int shown(const struct goalloc_class_stat *c, int all)
{
	return all || c->nalloc || c->spans;
}

static void cells(const struct goalloc_class_stat *c, char cell[NCOLS][CELL])
{
	int large = c->size_class == 0;

	snprintf(cell[C_CLASS], CELL, "%u", c->size_class);
	if (large) {
		snprintf(cell[C_OBJ], CELL, "large");
		snprintf(cell[C_SPAN], CELL, "-");
		snprintf(cell[C_HELD], CELL, "-");
	} else {
		snprintf(cell[C_OBJ], CELL, "%u", c->obj_size);
		snprintf(cell[C_SPAN], CELL, "%u", c->span_bytes);
		snprintf(cell[C_HELD], CELL, "%llu", (unsigned long long)c->bytes_held);
	}
	snprintf(cell[C_PERSPAN], CELL, "%u", c->objs_per_span);
	snprintf(cell[C_INUSE], CELL, "%llu", (unsigned long long)c->objs_inuse);
	snprintf(cell[C_SPANS], CELL, "%llu", (unsigned long long)c->spans);
	snprintf(cell[C_NALLOC], CELL, "%llu", (unsigned long long)c->nalloc);
	snprintf(cell[C_NFREE], CELL, "%llu", (unsigned long long)c->nfree);
}

static void print_table(const struct goalloc_stats *st, const struct goalloc_class_stat *cl,
			unsigned int n, int all)
{
	char cell[NCOLS][CELL], h[32];
	unsigned int i, hidden = 0;
	int w[NCOLS], k, len, nw;

	/* The summary's numbers, right-aligned to the widest. */
	nw = snprintf(NULL, 0, "%llu", (unsigned long long)st->heap_bytes);
	len = snprintf(NULL, 0, "%llu", (unsigned long long)st->max_size);
	if (len > nw)
		nw = len;
	printf("goalloc heap (kernel callers and every arena)\n");
	printf("  heap bytes   %*llu  %s\n", nw, (unsigned long long)st->heap_bytes,
	       human(h, sizeof(h), st->heap_bytes));
	printf("  in use       %*llu  %s\n", nw, (unsigned long long)st->heap_inuse_bytes,
	       human(h, sizeof(h), st->heap_inuse_bytes));
	printf("  chunks       %*llu\n", nw, (unsigned long long)st->heap_chunks);
	printf("  arenas open  %*llu  (this query's own included)\n", nw,
	       (unsigned long long)st->arenas);
	printf("  arena cap    %*llu  %s (the default for a new arena)\n", nw,
	       (unsigned long long)st->max_size, human(h, sizeof(h), st->max_size));

	for (k = 0; k < NCOLS; k++)
		w[k] = (int)strlen(col_title[k]);
	for (i = 0; i < n; i++) {
		if (!shown(&cl[i], all)) {
			hidden++;
			continue;
		}
		cells(&cl[i], cell);
		for (k = 0; k < NCOLS; k++) {
			len = (int)strlen(cell[k]);
			if (len > w[k])
				w[k] = len;
		}
	}

	printf("\n");
	if (!n) {
		printf("no per-class counters reported\n");
		return;
	}
	if (hidden == n) {
		printf("no size class has been used (%u hidden; --all shows them)\n", hidden);
		return;
	}
	for (k = 0; k < NCOLS; k++)
		printf("%s%*s", k ? "  " : "", w[k], col_title[k]);
	printf("\n");
	for (i = 0; i < n; i++) {
		if (!shown(&cl[i], all))
			continue;
		cells(&cl[i], cell);
		for (k = 0; k < NCOLS; k++)
			printf("%s%*s", k ? "  " : "", w[k], cell[k]);
		printf("\n");
	}
	if (hidden)
		printf("(%u size class%s never used not shown; --all shows them)\n", hidden,
		       hidden == 1 ? "" : "es");
}

/* One "key":value member of a JSON object, after *@sep. */
static void jnum(const char **sep, const char *key, unsigned long long v)
{
	printf("%s\"%s\":%llu", *sep, key, v);
	*sep = ",";
}

static void print_json(const struct goalloc_stats *st, const struct goalloc_class_stat *cl,
		       unsigned int n, int all)
{
	const char *osep = "", *sep = "";
	unsigned int i;

	printf("{\"heap\":{");
	jnum(&sep, "bytes", st->heap_bytes);
	jnum(&sep, "inuse_bytes", st->heap_inuse_bytes);
	jnum(&sep, "chunks", st->heap_chunks);
	jnum(&sep, "arenas", st->arenas);
	jnum(&sep, "arena_max_size", st->max_size);
	printf("},\"classes\":[");
	for (i = 0; i < n; i++) {
		if (!shown(&cl[i], all))
			continue;
		printf("%s\n{", osep);
		osep = ",";
		sep = "";
		jnum(&sep, "class", cl[i].size_class);
		jnum(&sep, "obj_size", cl[i].obj_size);
		jnum(&sep, "span_bytes", cl[i].span_bytes);
		jnum(&sep, "objs_per_span", cl[i].objs_per_span);
		jnum(&sep, "objs_inuse", cl[i].objs_inuse);
		jnum(&sep, "spans", cl[i].spans);
		jnum(&sep, "bytes_held", cl[i].bytes_held);
		jnum(&sep, "nalloc", cl[i].nalloc);
		jnum(&sep, "nfree", cl[i].nfree);
		printf("}");
	}
	printf("]}\n");
}

#define CACHES_FILE	"/sys/kernel/debug/goalloc/caches"

/* The named caches' table, as the kernel writes it. */
static int show_caches(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		int err = errno;

		fprintf(stderr, PROG ": %s: %s%s\n", path, strerror(err),
			err == ENOENT ? " (is goalloc.ko loaded, debugfs mounted?)" :
			err == EACCES ? " (try as root)" : "");
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	if (ferror(f)) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		fclose(f);
		return 1;
	}
	fclose(f);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "caches", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct goalloc_class_stat *cl = NULL, *ncl;
	unsigned int room = 128, n = 0;
	struct goalloc_stats st;
	int json = 0, all = 0, caches = 0;
	const char *dev;
	int c, fd, err, tries;

	while ((c = getopt_long(argc, argv, "jach", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'c':
			caches = 1;
			break;
		case 'h':
			show_usage(stdout);
			return 0;
		default:
			show_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		show_usage(stderr);
		return 2;
	}
	if (caches)
		return show_caches(optind < argc ? argv[optind] : CACHES_FILE);
	if (optind < argc) {
		dev = argv[optind];
	} else {
		dev = getenv(LIBGOALLOC_DEV_ENV);
		if (!dev || !*dev)
			dev = LIBGOALLOC_DEFAULT_DEV;
	}

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		err = errno;
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			errno = err;
	}
	if (fd < 0) {
		err = errno;
		fprintf(stderr, PROG ": %s: %s%s\n", dev, strerror(err), hint(err, 1));
		return 1;
	}

	/* Ask with room for @room classes; grow if the kernel has more. */
	for (tries = 0; tries < 4; tries++) {
		ncl = realloc(cl, room * sizeof(*cl));
		if (!ncl) {
			fprintf(stderr, PROG ": %s\n", strerror(errno));
			return 1;
		}
		cl = ncl;
		n = room;
		if (goalloc_fd_stats(fd, &st, cl, &n) < 0) {
			err = errno;
			fprintf(stderr, PROG ": %s: GOALLOC_IOC_STATS: %s%s\n", dev, strerror(err),
				hint(err, 0));
			return 1;
		}
		if (n <= room)
			break;
		room = n;
	}
	if (n > room)
		n = room;
	close(fd);

	if (json)
		print_json(&st, cl, n, all);
	else
		print_table(&st, cl, n, all);
	free(cl);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

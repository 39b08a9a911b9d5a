// SPDX-License-Identifier: GPL-2.0
/*
 * goallocstat: print goalloc's heap and per-size-class counters.
 *
 *   goallocstat [--json] [--all] [DEV]
 *   goallocstat --caches [FILE]
 *   goallocstat --watch [--interval SECONDS] [--count N] [--top N] [DIR]
 *   goallocstat --chunks [FILE]
 *   goallocstat --sites [--folded] [--top N] [FILE]
 *
 * The counters come from GOALLOC_IOC_STATS on a fresh arena opened only for
 * the query (it holds no memory and is never mapped; it is counted in
 * "arenas open").  The heap and class counters are goalloc-wide: kernel
 * callers and every arena together.
 *
 * --caches prints the named caches' table (goalloc_cache_create(), slabinfo's
 * columns) from debugfs, /sys/kernel/debug/goalloc/caches unless FILE says.
 *
 * --watch is a live view of the kernel's side, top-like: goalloc's debugfs
 * tables (DIR, /sys/kernel/debug/goalloc unless said: heap, classes,
 * caches) read every interval, each size class and each named cache sorted
 * by the bytes its spans hold, with what changed since the previous frame
 * (objects in use, bytes held, objects allocated and freed in the
 * interval).  On a terminal each frame clears the screen; otherwise frames
 * follow one another as plain text, each written whole, so that a script
 * can read a fixed number of them (--count).
 *
 * --chunks turns debugfs goalloc/chunks (or FILE) into CSV, one row per run
 * of pages: chunk,node,order,first,pages,kind,class (kind free, window,
 * scavenged, large, arena or span; class for a span).
 *
 * --sites prints the allocation-site profile (debugfs goalloc/allocinfo, or
 * FILE; on while goalloc's profile_rate parameter is set) sorted by live
 * bytes, then live objects; with --folded, one "module;function;site BYTES"
 * line per site holding live bytes, the folded-stack form that
 * flamegraph.pl and speedscope read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
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

#define DEBUGFS_DIR	"/sys/kernel/debug/goalloc"

static void show_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--json] [--all] [DEV] | --caches [FILE]\n"
		"       " PROG " --watch [-i SECONDS] [-n COUNT] [-t TOP] [DIR] | --chunks [FILE]\n"
		"       " PROG " --sites [--folded] [-t TOP] [FILE]\n"
		"Print goalloc's heap and size-class counters (GOALLOC_IOC_STATS).\n"
		"  -j, --json      one JSON object: {\"heap\":{...},\"classes\":[...]}\n"
		"  -a, --all       every size class, also those never used\n"
		"  -c, --caches    the named caches (debugfs goalloc/caches, or FILE) instead\n"
		"  -w, --watch     a live view of debugfs (DIR, default " DEBUGFS_DIR "):\n"
		"                  classes and caches by bytes held, with each interval's changes\n"
		"  -i, --interval  seconds between frames (default 2; fractions allowed)\n"
		"  -n, --count     frames to show, then exit (default: until interrupted)\n"
		"  -t, --top       rows per table (default: all, or what fits a terminal)\n"
		"  -k, --chunks    the heap's chunk map (debugfs goalloc/chunks, or FILE) as CSV\n"
		"  -s, --sites     the allocation-site profile (debugfs goalloc/allocinfo, or\n"
		"                  FILE) by live bytes; with -t, the first rows only\n"
		"  -f, --folded    with --sites: folded stacks of live bytes (flamegraph.pl)\n"
		"  -h, --help      this text\n"
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

#define CACHES_FILE	DEBUGFS_DIR "/caches"

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

/* "PATH: error (hint)" for a file that cannot be opened. */
static void open_error(const char *path)
{
	int err = errno;

	fprintf(stderr, PROG ": %s: %s%s\n", path, strerror(err),
		err == ENOENT ? " (is goalloc.ko loaded, debugfs mounted?)" :
		err == EACCES ? " (try as root)" : "");
}

/*
 * One row of the live view: a size class (debugfs goalloc/classes) or a
 * named cache (goalloc/caches), as read at one frame.
 */
struct wrow {
	char name[40];		/* the class number, or the cache's name */
	unsigned long size;	/* object size; 0 for large objects */
	long objs;		/* objects in use */
	unsigned long held;	/* bytes its spans hold */
	unsigned long allocs;	/* objects allocated, ever */
	int has_allocs;		/* @allocs was read (an older caches table has none) */
	int seen;		/* also in the previous frame (deltas are shown) */
	long d_objs, d_allocs, d_frees;
	long long d_held;
};

/* The rows of one table at one frame. */
struct wtable {
	struct wrow *row;
	size_t n, room;
};

static struct wrow *wtable_add(struct wtable *t)
{
	if (t->n == t->room) {
		size_t room = t->room ? 2 * t->room : 64;
		struct wrow *r = realloc(t->row, room * sizeof(*r));

		if (!r)
			return NULL;
		t->row = r;
		t->room = room;
	}
	memset(&t->row[t->n], 0, sizeof(t->row[0]));
	return &t->row[t->n++];
}

/*
 * Read goalloc/classes: "class size pages objs/span tail inuse spans
 * held_bytes alloc_objs", class 0 ("large") with "-" where nothing applies.
 */
static int read_classes(const char *dir, struct wtable *t)
{
	char path[4096], line[512], size[32], held[32];
	unsigned long cls, allocs;
	long inuse, spans;
	FILE *f;

	snprintf(path, sizeof(path), "%s/classes", dir);
	f = fopen(path, "re");
	if (!f) {
		open_error(path);
		return -1;
	}
	t->n = 0;
	while (fgets(line, sizeof(line), f)) {
		struct wrow *r;

		if (sscanf(line, "%lu %31s %*s %*s %*s %ld %ld %31s %lu", &cls, size, &inuse,
			   &spans, held, &allocs) != 6)
			continue;	/* the header */
		r = wtable_add(t);
		if (!r) {
			fclose(f);
			return -1;
		}
		snprintf(r->name, sizeof(r->name), "%lu", cls);
		r->size = strtoul(size, NULL, 10);
		r->objs = inuse;
		r->held = strtoul(held, NULL, 10);
		r->allocs = allocs;
		r->has_allocs = 1;
	}
	fclose(f);
	return 0;
}

/*
 * Read goalloc/caches: "name active_objs num_objs objsize slotsize
 * objs/span pages/span spans held_bytes [alloc_objs] [(destroyed)]".
 */
static int read_caches(const char *dir, struct wtable *t)
{
	char path[4096], line[512], name[40], rest[64];
	unsigned long objsize, held, allocs;
	long active;
	FILE *f;
	int k;

	snprintf(path, sizeof(path), "%s/caches", dir);
	f = fopen(path, "re");
	t->n = 0;
	if (!f) {
		/* A goalloc without named caches: an empty table. */
		if (errno == ENOENT)
			return 0;
		open_error(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct wrow *r;

		if (line[0] == '#')
			continue;
		rest[0] = 0;
		k = sscanf(line, "%39s %ld %*s %lu %*s %*s %*s %*s %lu %63s", name, &active,
			   &objsize, &held, rest);
		if (k < 4)
			continue;
		r = wtable_add(t);
		if (!r) {
			fclose(f);
			return -1;
		}
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->size = objsize;
		r->objs = active;
		r->held = held;
		if (k == 5 && sscanf(rest, "%lu", &allocs) == 1) {
			r->allocs = allocs;
			r->has_allocs = 1;
		}
	}
	fclose(f);
	return 0;
}

/* goalloc/heap: "key value" lines; the value of @key, or -1. */
static long heap_value(const char *heap, const char *key)
{
	size_t len = strlen(key);
	const char *p = heap;

	while (p && *p) {
		if (!strncmp(p, key, len) && (p[len] == ' ' || p[len] == '\t'))
			return strtol(p + len, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int read_heap(const char *dir, char *buf, size_t len)
{
	char path[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/heap", dir);
	f = fopen(path, "re");
	if (!f) {
		open_error(path);
		return -1;
	}
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return 0;
}

/* Deltas of @cur against @prev (the same rows by name and object size). */
static void wtable_delta(struct wtable *cur, const struct wtable *prev)
{
	size_t i, j;

	for (i = 0; i < cur->n; i++) {
		struct wrow *r = &cur->row[i];

		for (j = 0; j < prev->n; j++) {
			const struct wrow *p = &prev->row[j];

			if (strcmp(p->name, r->name) || p->size != r->size)
				continue;
			r->seen = 1;
			r->d_objs = r->objs - p->objs;
			r->d_held = (long long)r->held - (long long)p->held;
			if (r->has_allocs && p->has_allocs) {
				r->d_allocs = (long)(r->allocs - p->allocs);
				r->d_frees = r->d_allocs - r->d_objs;
			}
			break;
		}
	}
}

/* Most bytes held first; then most objects; then the name, as numbers first. */
static int wrow_cmp(const void *a, const void *b)
{
	const struct wrow *x = a, *y = b;
	unsigned long nx, ny;
	char *ex, *ey;

	if (x->held != y->held)
		return x->held > y->held ? -1 : 1;
	if (x->objs != y->objs)
		return x->objs > y->objs ? -1 : 1;
	nx = strtoul(x->name, &ex, 10);
	ny = strtoul(y->name, &ey, 10);
	if (!*ex && !*ey && nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Is @r worth a line: it holds something, or moved in the interval. */
static int wrow_active(const struct wrow *r)
{
	return r->held || r->objs || r->d_objs || r->d_held || r->d_allocs;
}

static void signed_cell(char *buf, size_t len, long long v, int shown)
{
	if (!shown)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+lld", v);
}

/* One table of a frame, at most @top rows (0: all). */
static void wtable_print(FILE *o, const char *what, struct wtable *t, int first, unsigned int top)
{
	char dobj[24], dheld[24], dal[24], dfr[24];
	unsigned int shown = 0, more = 0;
	size_t i;

	qsort(t->row, t->n, sizeof(t->row[0]), wrow_cmp);
	fprintf(o, "%-23s %7s %9s %8s %10s %10s %8s %8s\n", what, "size", "objects", "+objs",
		"held KiB", "+held KiB", "allocs", "frees");
	for (i = 0; i < t->n; i++) {
		const struct wrow *r = &t->row[i];
		int d = !first && r->seen;

		if (!wrow_active(r))
			continue;
		if (top && shown >= top) {
			more++;
			continue;
		}
		shown++;
		signed_cell(dobj, sizeof(dobj), r->d_objs, d);
		signed_cell(dheld, sizeof(dheld), r->d_held / 1024, d);
		if (d && r->has_allocs) {
			snprintf(dal, sizeof(dal), "%ld", r->d_allocs);
			snprintf(dfr, sizeof(dfr), "%ld", r->d_frees);
		} else {
			snprintf(dal, sizeof(dal), "-");
			snprintf(dfr, sizeof(dfr), "-");
		}
		if (r->size)
			fprintf(o, "%-23s %7lu", r->name, r->size);
		else
			fprintf(o, "%-23s %7s", r->name, "large");
		fprintf(o, " %9ld %8s %10lu %10s %8s %8s\n", r->objs, dobj, r->held / 1024, dheld,
			dal, dfr);
	}
	if (!shown)
		fprintf(o, "  (none)\n");
	if (more)
		fprintf(o, "  (%u more; --top shows more)\n", more);
}

static volatile sig_atomic_t watch_stop;

static void watch_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The heap's line: value of @key (KiB or a count) and its change. */
static void heap_cell(FILE *o, const char *label, const char *key, const char *cur,
		      const char *prev, int first, const char *unit)
{
	long v = heap_value(cur, key), p = heap_value(prev, key);

	if (v < 0)
		return;
	fprintf(o, "  %s %ld%s", label, v, unit);
	if (!first && p >= 0)
		fprintf(o, " (%+ld)", v - p);
}

static int watch(const char *dir, double interval, unsigned long count, unsigned int top)
{
	struct wtable cls[2] = { { 0 } }, cache[2] = { { 0 } };
	static char heap[2][8192];
	int tty = isatty(STDOUT_FILENO), rc = 0;
	unsigned long frame;
	struct timespec next;
	double t0;

	if (tty && !top) {
		struct winsize ws;

		/* Two tables and their headers in one screen. */
		if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 16)
			top = (ws.ws_row - 10) / 2;
		else
			top = 10;
	}
	signal(SIGINT, watch_signal);
	signal(SIGTERM, watch_signal);
	clock_gettime(CLOCK_MONOTONIC, &next);
	t0 = mono_now();
	for (frame = 1; !watch_stop && (!count || frame <= count); frame++) {
		int c = frame & 1, first = frame == 1;
		char *text = NULL;
		size_t len = 0;
		FILE *o;

		if (read_heap(dir, heap[c], sizeof(heap[c])) || read_classes(dir, &cls[c]) ||
		    read_caches(dir, &cache[c])) {
			rc = 1;
			break;
		}
		if (!first) {
			wtable_delta(&cls[c], &cls[!c]);
			wtable_delta(&cache[c], &cache[!c]);
		}
		/* The whole frame in one write: a reader sees frames whole. */
		o = open_memstream(&text, &len);
		if (!o) {
			rc = 1;
			break;
		}
		if (tty)
			fputs("\033[H\033[2J", o);
		fprintf(o, "goalloc --watch: frame %lu", frame);
		if (count)
			fprintf(o, "/%lu", count);
		fprintf(o, ", t=%.1f s, every %g s, changes since the previous frame\n",
			mono_now() - t0, interval);
		fprintf(o, "heap:");
		heap_cell(o, "held", "heap_held_kib", heap[c], heap[!c], first, " KiB");
		heap_cell(o, "in spans", "heap_inuse_kib", heap[c], heap[!c], first, " KiB");
		heap_cell(o, "idle", "heap_idle_kib", heap[c], heap[!c], first, " KiB");
		heap_cell(o, "chunks", "heap_chunks", heap[c], heap[!c], first, "");
		heap_cell(o, "objects", "objects_in_use", heap[c], heap[!c], first, "");
		fprintf(o, "\n\n");
		wtable_print(o, "class", &cls[c], first, top);
		fprintf(o, "\n");
		wtable_print(o, "cache", &cache[c], first, top);
		fprintf(o, "\n");
		fclose(o);
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) == EOF) {
			free(text);
			fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		free(text);
		if (count && frame == count)
			break;
		/* Frames on a fixed beat: the time spent reading is not added. */
		next.tv_sec += (time_t)interval;
		next.tv_nsec += (long)((interval - (time_t)interval) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (!watch_stop &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	free(cls[0].row);
	free(cls[1].row);
	free(cache[0].row);
	free(cache[1].row);
	return rc;
}

/* The kind of a chunk map token (debugfs goalloc/chunks), and its class. */
static const char *chunk_kind(const char *tok, long *cls)
{
	*cls = -1;
	switch (tok[0]) {
	case 'f':
		return "free";
	case 'w':
		return "window";
	case 's':
		return "scavenged";
	case 'L':
		return "large";
	case 'A':
		return "arena";
	case 'c':
		*cls = strtol(tok + 1, NULL, 10);
		return "span";
	default:
		return NULL;
	}
}

/* goalloc/chunks as CSV: one row per run of pages. */
static int show_chunks(const char *path)
{
	unsigned long chunk, order, npages, first;
	char *line = NULL, *tok, *save;
	size_t room = 0;
	int nid, bad = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		open_error(path);
		return 1;
	}
	printf("chunk,node,order,first,pages,kind,class\n");
	while (getline(&line, &room, f) > 0) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%lu %d %lu %lu", &chunk, &nid, &order, &npages) != 4) {
			bad++;
			continue;
		}
		/* Past the seven numbers: chunk node order pages free scav windows. */
		tok = strtok_r(line, " \n", &save);
		for (int k = 1; tok && k < 7; k++)
			tok = strtok_r(NULL, " \n", &save);
		first = 0;
		while ((tok = strtok_r(NULL, " \n", &save))) {
			unsigned long run = strtoul(tok, NULL, 10);
			const char *colon = strchr(tok, ':'), *kind;
			long cls;

			kind = colon ? chunk_kind(colon + 1, &cls) : NULL;
			if (!kind || !run) {
				bad++;
				break;
			}
			printf("%lu,%d,%lu,%lu,%lu,%s,", chunk, nid, order, first, run, kind);
			if (cls >= 0)
				printf("%ld", cls);
			printf("\n");
			first += run;
		}
		if (first != npages)
			bad++;
	}
	free(line);
	fclose(f);
	if (bad) {
		fprintf(stderr, PROG ": %s: %d line%s not understood\n", path, bad,
			bad == 1 ? "" : "s");
		return 1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* One line of goalloc/allocinfo. */
struct site {
	unsigned long long live_bytes, live_objects, calls, samples;
	char *where;			/* "function+off/len [module]" */
};

static int site_cmp(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	if (x->live_objects != y->live_objects)
		return x->live_objects < y->live_objects ? 1 : -1;
	return strcmp(x->where, y->where);
}

/* @where's frames for a folded stack: "module;function;site" (no ';' in them). */
static void print_folded(const struct site *t)
{
	const char *mod = strchr(t->where, '[');
	size_t flen = strcspn(t->where, "+ ");
	size_t wlen = mod ? (size_t)(mod - t->where) : strlen(t->where);

	while (wlen && t->where[wlen - 1] == ' ')
		wlen--;
	if (mod)
		printf("%.*s;", (int)strcspn(mod + 1, "]"), mod + 1);
	else
		printf("vmlinux;");
	printf("%.*s;%.*s %llu\n", (int)flen, t->where, (int)wlen, t->where, t->live_bytes);
}

/* goalloc/allocinfo, sorted: a table, or folded stacks. */
static int show_sites(const char *path, int folded, unsigned long top)
{
	struct site *t = NULL, *nt;
	char *line = NULL, *head = NULL;
	size_t room = 0, n = 0, cap = 0, i;
	int bad = 0, off;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		open_error(path);
		return 1;
	}
	while (getline(&line, &room, f) > 0) {
		struct site x;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#') {
			if (!head && strstr(line, "profile_rate="))
				head = strdup(line + strspn(line, "# "));
			continue;
		}
		if (sscanf(line, "%llu %llu %llu %llu %n", &x.live_bytes, &x.live_objects,
			   &x.calls, &x.samples, &off) != 4 || !line[off]) {
			bad++;
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			nt = realloc(t, cap * sizeof(*t));
			if (!nt) {
				fprintf(stderr, PROG ": %s\n", strerror(errno));
				return 1;
			}
			t = nt;
		}
		x.where = strdup(line + off);
		if (!x.where) {
			fprintf(stderr, PROG ": %s\n", strerror(errno));
			return 1;
		}
		t[n++] = x;
	}
	free(line);
	fclose(f);
	if (bad || !head) {
		fprintf(stderr, PROG ": %s: %s\n", path,
			head ? "lines not understood" : "not goalloc's allocinfo (no header)");
		return 1;
	}
	if (n)
		qsort(t, n, sizeof(*t), site_cmp);
	if (top && n > top)
		n = top;
	if (!folded) {
		printf("%s\n", head);
		printf("%14s %12s %12s %10s  %s\n", "live_bytes", "live_objects", "calls", "samples",
		       "call_site");
	}
	for (i = 0; i < n; i++) {
		if (folded) {
			if (t[i].live_bytes)
				print_folded(&t[i]);
		} else {
			printf("%14llu %12llu %12llu %10llu  %s\n", t[i].live_bytes,
			       t[i].live_objects, t[i].calls, t[i].samples, t[i].where);
		}
	}
	free(head);
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
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "top", required_argument, NULL, 't' },
		{ "chunks", no_argument, NULL, 'k' },
		{ "sites", no_argument, NULL, 's' },
		{ "folded", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct goalloc_class_stat *cl = NULL, *ncl;
	unsigned int room = 128, n = 0;
	struct goalloc_stats st;
	int json = 0, all = 0, caches = 0, watching = 0, chunks = 0, watch_opts = 0;
	int sites = 0, folded = 0, top_set = 0;
	unsigned long count = 0, top = 0;
	double interval = 2;
	const char *dev;
	char *end;
	int c, fd, err, tries;

	while ((c = getopt_long(argc, argv, "jacwi:n:t:kfsh", opts, NULL)) != -1) {
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
		case 'w':
			watching = 1;
			break;
		case 'i':
			watch_opts = 1;
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(interval >= 0.1 && interval <= 86400)) {
				fprintf(stderr, PROG ": --interval %s: seconds from 0.1 to 86400\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
		case 't':
			if (c == 'n')
				watch_opts = 1;
			else
				top_set = 1;
			errno = 0;
			if (c == 'n')
				count = strtoul(optarg, &end, 10);
			else
				top = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    (c == 'n' ? count : top) > 1000000) {
				fprintf(stderr, PROG ": --%s %s: a number from 0 to 1000000\n",
					c == 'n' ? "count" : "top", optarg);
				return 2;
			}
			break;
		case 'k':
			chunks = 1;
			break;
		case 's':
			sites = 1;
			break;
		case 'f':
			folded = 1;
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
	if (caches + watching + chunks + sites + json > 1 ||
	    (all && (caches || watching || chunks || sites))) {
		fprintf(stderr, PROG ": --caches, --watch, --chunks, --sites and --json go alone\n");
		return 2;
	}
	if ((watch_opts && !watching) || (top_set && !watching && !sites)) {
		fprintf(stderr, PROG ": --interval and --count are --watch's, --top --watch's and --sites'\n");
		return 2;
	}
	if (folded && !sites) {
		fprintf(stderr, PROG ": --folded goes with --sites\n");
		return 2;
	}
	if (sites)
		return show_sites(optind < argc ? argv[optind] : DEBUGFS_DIR "/allocinfo", folded, top);
	if (caches)
		return show_caches(optind < argc ? argv[optind] : CACHES_FILE);
	if (chunks)
		return show_chunks(optind < argc ? argv[optind] : DEBUGFS_DIR "/chunks");
	if (watching)
		return watch(optind < argc ? argv[optind] : DEBUGFS_DIR, interval, count,
			     (unsigned int)top);
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

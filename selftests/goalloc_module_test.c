// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_module_test: what userspace can see of a loaded goalloc.ko.
 *
 * The module is live in sysfs, and its debugfs table lists the 67 size
 * classes with sizes that grow, spans that hold them, and tails that waste
 * at most an eighth of the span.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kselftest_harness.h"

#define CLASSES "/sys/kernel/debug/goalloc/classes"

TEST(module_is_live)
{
	char state[32] = "";
	FILE *f = fopen("/sys/module/goalloc/initstate", "r");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(state, sizeof(state), f));
	fclose(f);
	EXPECT_STREQ("live\n", state);
}

TEST(debugfs_classes_table)
{
	unsigned int cls, size, pages, objs, prev_size = 0, n = 0;
	unsigned long tail, held;
	long inuse, spans;
	char line[256], word[8];
	FILE *f = fopen(CLASSES, "r");

	if (!f && errno == ENOENT)
		SKIP(return, "debugfs not mounted at /sys/kernel/debug");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	ASSERT_EQ(0, strncmp(line, "class", 5));
	/* Class 0 is the large objects' line. */
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	ASSERT_EQ(2, sscanf(line, "%u %5s", &cls, word));
	EXPECT_EQ(0, cls);
	EXPECT_STREQ("large", word);
	while (fgets(line, sizeof(line), f)) {
		ASSERT_EQ(8, sscanf(line, "%u %u %u %u %lu %ld %ld %lu", &cls, &size, &pages,
				    &objs, &tail, &inuse, &spans, &held));
		EXPECT_EQ(++n, cls);
		/* Nothing else uses goalloc here: no object is live. */
		EXPECT_EQ(0, inuse);
		EXPECT_GE(spans, 0);
		/* Of the own shape, or the big one of a busy class (<= 16 pages). */
		EXPECT_LE((unsigned long)spans * pages * 8192, held);
		EXPECT_LE(held, (unsigned long)spans * 16 * 8192);
		EXPECT_EQ(0, held % 8192);
		EXPECT_GT(size, prev_size);
		EXPECT_EQ((unsigned long)pages * 8192, (unsigned long)objs * size + tail);
		EXPECT_LE(tail * 8, (unsigned long)pages * 8192);
		prev_size = size;
	}
	fclose(f);
	EXPECT_EQ(67, n);
	EXPECT_EQ(32768, prev_size);
}

TEST(debugfs_classes_read_only)
{
	struct stat st;

	if (stat(CLASSES, &st) && errno == ENOENT)
		SKIP(return, "debugfs not mounted at /sys/kernel/debug");
	ASSERT_EQ(0, stat(CLASSES, &st));
	EXPECT_EQ(0U, st.st_mode & 0222);
}

TEST_HARNESS_MAIN

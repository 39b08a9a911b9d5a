/* SPDX-License-Identifier: GPL-2.0 */
/*
 * span_map.pml - the span map's lock-free lookup against its writers: a
 * region published and freed, spans mapped, freed and carved again on the
 * same pages, the region table replaced, with readers in RCU read-side
 * sections throughout.
 *
 * Covers (the publication order [M1] [M2] [M3], kmod/mheap.h, top):
 *   kmod/mheap.h   goalloc_span_of() (the table, the region, the entry),
 *                  and what its callers read of the span in the same
 *                  read-side section: the state (goalloc_span_refusal()),
 *                  base and bytes (goalloc_span_check_free()'s bound test)
 *   kmod/mheap.c   heap_grow() (the region kzalloc()ed), chunk_publish()
 *                  (the region published once, nchunks counted) [M2],
 *                  span_carve() and pcache_carve() -> map_span_in() [M3],
 *                  goalloc_heap_free_span() and pcache_free() (entries
 *                  cleared, pages back, goalloc_span_free_rcu()),
 *                  chunk_unlink() (the last chunk of a region: entry
 *                  cleared, kfree_rcu()), span_map_replace() (copy,
 *                  rcu_assign_pointer(), kvfree_rcu()) [M1]
 *   kmod/mspan.[hc] goalloc_span_create() and goalloc_span_init_state()
 *                  (the fields, before the span is placed),
 *                  goalloc_span_kill() and mcentral's retire (DEAD before
 *                  the span goes back to the heap), goalloc_span_free_rcu()
 *
 * Variants (cpp defines, e.g. "spin -DNO_RCU_SPAN -a span_map.pml"):
 *   (none)          as the code.  Must pass.
 *   OLD_PUBLISH     [M3] broken: the entries are stored before the span's
 *                   last field (s->base, span_carve()).  Must fail: a
 *                   reader finds a span whose base is not set.
 *   NO_RCU_SPAN     a freed span's descriptor is freed at once
 *                   (goalloc_span_destroy(), not goalloc_span_free_rcu()).
 *                   Must fail: a reader that found it reads freed memory.
 *   NO_RCU_REGION   chunk_unlink() kfree()s the region at once.  Must
 *                   fail: a reader that found it reads freed memory.
 *   NO_RCU_TABLE    span_map_replace() kvfree()s the old table at once.
 *                   Must fail: a reader that found it reads freed memory.
 *   NO_ZERO_REGION  [M2] broken: the region's zeroes land after the
 *                   pointer (RCU_INIT_POINTER(), or kmalloc() and a late
 *                   memset()).  Must fail: a reader takes a stale byte of
 *                   spans[] for a span.
 *   EMPTY_TABLE     [M1] broken: the new table is published before the
 *                   regions are copied into it.  Must fail: a lookup of a
 *                   live object finds no region.
 *   KILL_LATE       the span goes back to the heap (entries cleared, pages
 *                   freed) before it is DEAD.  Must fail: a reader that
 *                   found it reads a live state for a span that no longer
 *                   holds the page.
 *   NO_COUNT        chunk_publish() does not count a chunk whose region
 *                   exists (nchunks).  Must fail: the first chunk's unlink
 *                   takes the region from under the second chunk's live
 *                   span.
 *   NLOOK=<n>       lookups per reader (default 2).
 *
 * Actors: the heap's writer (one task: every writer of the map holds the
 * heap lock, so the table's replacement, goalloc_span_map_resize(), runs
 * once, at a point between two of its sections chosen
 * nondeterministically), and two readers, each doing NLOOK lookups of a
 * page chosen nondeterministically, each in a read-side section of its
 * own.
 *
 * One 4 MiB region R of three heap pages: chunk 1 (pages 0-1) and chunk 2
 * (page 2).  The table starts as T0, R's entry NULL; T1 replaces it once.
 * The writer: grows chunk 1 (R zeroed, published, nchunks 1) and carves
 * span A on pages 0-1; grows chunk 2 (R found, nchunks 2) and carves span
 * C on page 2; retires A (DEAD, entries cleared, pages freed, call_rcu())
 * and keeps chunk 1; carves span B on page 1; retires B and unlinks chunk
 * 1 (nchunks 1: R stays); retires C and unlinks chunk 2 (nchunks 0: R's
 * entry cleared, kfree_rcu()).
 *
 * RCU: an object queued with call_rcu() (kfree_rcu(), kvfree_rcu()) is
 * freed when the last read-side section that was running at the call
 * ends, or at the call if none was.  Freeing as early as RCU allows is the
 * worst case for the readers (nothing but the assertions reads "freed"),
 * and spares the model a process of callbacks.  A freed object must be
 * unreachable from the current table.
 *
 * Checked, sequentially consistent, one load per step (a reader's loads of
 * one span, whose fields but the state are constant once it is reachable,
 * are one step):
 *   - the table, the region and the span a reader loads from are not
 *     freed;
 *   - the entry is NULL or the span holding the page (ghost holds[]: from
 *     span_carve()'s bitmap_set() to the free's bitmap_clear()), never a
 *     stale byte;
 *   - a span found has every field set (state, base, npages);
 *   - a span found live holds the page and its bounds contain the pointer
 *     (the callers trust a live state: a free into a stale live span would
 *     write into another span's object);
 *   - a lookup of a page whose span was live (mapped, not yet DEAD: ghost
 *     live[]) from the start of the section to its end finds that span,
 *     live.
 *
 * Not modelled: weak memory (the barriers pair as [M1]-[M3] say: the
 * writer's release or smp_wmb(), the reader's address dependency); the
 * table's nregions test (both tables cover R; a grow for a chunk above the
 * table is the same replacement); a descriptor reused for another span
 * (folded into "freed": no load of it after its free); the page caches'
 * windows (pcache_carve() and pcache_free() store the same entries under
 * the window's lock instead of the heap's; a window pins its chunk, so its
 * region, which pc->region reads without RCU); the chunks' pages (no
 * lookup reads them); heap_abandon() at unload (no lookup is left).
 */

#ifndef NLOOK
#define NLOOK	2
#endif
#define NPAGES	3

/* span pointers; the spans are RCU objects 1-3 */
#define SPAN_A	1	/* chunk 1, pages 0-1 */
#define SPAN_B	2	/* chunk 1, page 1, after A */
#define SPAN_C	3	/* chunk 2, page 2 */
#define GARBAGE	4	/* a stale byte of a region's spans[], not a span */
/* the other RCU objects */
#define O_R	4	/* region R */
#define O_T0	5	/* table T0 (T1 is never freed) */
#define NOBJ	6

/* span fields; 0 and UNSET: not set (memory fresh from kmem_cache) */
#define LIVE	1	/* any state a lookup may meet but DEAD */
#define DEAD	2
#define UNSET	7

/* the span map */
byte map;			/* goalloc_span_map: table 0 (T0) or 1 (T1) */
bit tregion[2];			/* each table's entry for R */
byte rspans[NPAGES] = GARBAGE;	/* R's spans[], until kzalloc() zeroes it */
byte nchunks;			/* R's nchunks */
bit replaced;

/* the spans */
byte sp_state[4];
byte sp_base[4] = UNSET;	/* first page */
byte sp_npages[4];

/* RCU */
byte rd_in;			/* readers inside a section: bit per reader */
byte waiting[NOBJ];		/* queued: the sections it waits for */
bit pending[NOBJ];
bit freed[NOBJ];

/* ghost */
byte holds[NPAGES];		/* the span the page is in (its chunk's bits) */
byte live[NPAGES];		/* the span mapped and not yet DEAD */

/* The object goes: unreachable from the current table. */
inline do_free(o)
{
	assert(o > SPAN_C ||
	       (rspans[0] != o && rspans[1] != o && rspans[2] != o));
	assert(o != O_R || !tregion[map]);
	assert(o != O_T0 || map == 1);
	freed[o] = 1
}

/* call_rcu(), kfree_rcu(), kvfree_rcu(): after the sections running now. */
inline call_rcu(o)
{
	atomic {
		if
		:: rd_in == 0 -> do_free(o)
		:: else -> waiting[o] = rd_in; pending[o] = 1
		fi
	}
}

/* rcu_read_unlock(): a grace period left waiting for no section ends. */
inline rcu_unlock(me)
{
	rd_in = rd_in & ~(1 << me);
	o = 1;
	do
	:: o < NOBJ ->
		if
		:: pending[o] ->
			waiting[o] = waiting[o] & ~(1 << me);
			if
			:: waiting[o] == 0 -> pending[o] = 0; do_free(o)
			:: else -> skip
			fi
		:: else -> skip
		fi;
		o++
	:: else -> break
	od;
	o = 0
}

#define FREE_NOW(o)	do_free(o)

/* goalloc_span_create(), goalloc_span_init_state(): unreachable yet. */
inline create(s, n)
{
	atomic { sp_state[s] = LIVE; sp_npages[s] = n }
}

/*
 * span_carve(): the pages taken (bitmap_set()), s->base, then map_span():
 * [M3] smp_wmb() and one WRITE_ONCE() per entry.  Heap lock held.
 */
inline carve(s, first, n)
{
	atomic {
		i = first;
		do
		:: i < first + n -> holds[i] = s; i++
		:: else -> break
		od;
#ifndef OLD_PUBLISH
		sp_base[s] = first;
#endif
		i = first
	};
	do
	:: i < first + n - 1 -> atomic { rspans[i] = s; i++ }
	:: else -> break
	od;
	atomic {
		rspans[i] = s;
#ifndef OLD_PUBLISH
		/* ghost: its objects may be handed out and looked up */
		i = first;
		do
		:: i < first + n -> live[i] = s; i++
		:: else -> break
		od;
#endif
		i = 0
	};
#ifdef OLD_PUBLISH
	atomic {
		sp_base[s] = first;
		i = first;
		do
		:: i < first + n -> live[i] = s; i++
		:: else -> break
		od;
		i = 0
	}
#endif
}

/* goalloc_span_kill() or mcentral's retire, under the span's lock. */
inline kill(s, first, n)
{
	atomic {
		sp_state[s] = DEAD;
		i = first;
		do
		:: i < first + n -> live[i] = 0; i++
		:: else -> break
		od;
		i = 0
	}
}

/*
 * goalloc_heap_free_span() up to the chunk: map_span(s, NULL), then
 * bitmap_clear().  Heap lock held.
 */
inline unmap(s, first, n)
{
	i = first;
	do
	:: i < first + n - 1 -> atomic { rspans[i] = 0; i++ }
	:: else -> break
	od;
	atomic {
		rspans[i] = 0;
		i = first;
		do
		:: i < first + n -> holds[i] = 0; i++
		:: else -> break
		od;
		i = 0
	}
}

/* chunk_unlink(): the region goes with its last chunk.  Heap lock held. */
inline chunk_unlink()
{
	nchunks--;
	if
	:: nchunks == 0 ->
		tregion[map] = 0;	/* RCU_INIT_POINTER() */
#ifdef NO_RCU_REGION
		FREE_NOW(O_R)
#else
		call_rcu(O_R)		/* kfree_rcu() */
#endif
	:: else -> skip
	fi
}

/*
 * span_map_replace(): T1, kvzalloc()ed (entry NULL), replaces T0; or not
 * yet.  Heap lock held, so only between the writer's sections.
 */
inline maybe_replace()
{
	if
	:: !replaced ->
		replaced = 1;
#ifndef EMPTY_TABLE
		tregion[1] = tregion[0];	/* RCU_INIT_POINTER(), each */
		map = 1;			/* [M1] rcu_assign_pointer() */
#else
		map = 1;
		tregion[1] = tregion[0];
#endif
#ifdef NO_RCU_TABLE
		FREE_NOW(O_T0)
#else
		call_rcu(O_T0)			/* kvfree_rcu(), unlocked */
#endif
	:: true
	fi
}

/* The span goes back to the heap, its descriptor after a grace period. */
inline free_span(s, first, n, unlink)
{
#ifndef KILL_LATE
	kill(s, first, n);
#endif
	unmap(s, first, n);
#ifdef KILL_LATE
	kill(s, first, n);
#endif
	if
	:: unlink -> chunk_unlink()
	:: else -> skip	/* the pool keeps the idle chunk */
	fi;
#ifdef NO_RCU_SPAN
	FREE_NOW(s)
#else
	call_rcu(s)	/* goalloc_span_free_rcu(), after the unlock */
#endif
}

/* heap_grow() -> chunk_publish() and the first span's carve. */
inline grow(s, first, n)
{
	/* the spare region is kzalloc()ed: zeroed before it can be reached */
#ifndef NO_ZERO_REGION
	if
	:: !tregion[map] ->
		atomic { rspans[0] = 0; rspans[1] = 0; rspans[2] = 0 }
	:: else -> skip	/* a region exists: the spare is kfree()d */
	fi;
#endif
	create(s, n);
	if
	:: !tregion[map] ->
		tregion[map] = 1;	/* [M2] rcu_assign_pointer() */
#ifdef NO_ZERO_REGION
		atomic { rspans[0] = 0; rspans[1] = 0; rspans[2] = 0 };
#endif
		nchunks++
	:: else ->
#ifndef NO_COUNT
		nchunks++
#else
		skip
#endif
	fi;
	carve(s, first, n)
}

active proctype Writer()
{
	byte i;

	maybe_replace();
	grow(SPAN_A, 0, 2);		/* chunk 1 */
	maybe_replace();
	grow(SPAN_C, 2, 1);		/* chunk 2, in the same region */
	maybe_replace();
	free_span(SPAN_A, 0, 2, 0);	/* chunk 1 idle, kept */
	maybe_replace();
	create(SPAN_B, 1);		/* heap_place() on A's old pages */
	carve(SPAN_B, 1, 1);
	maybe_replace();
	free_span(SPAN_B, 1, 1, 1);	/* chunk 1 unlinked: R stays */
	maybe_replace();
	free_span(SPAN_C, 2, 1, 1);	/* chunk 2 unlinked: R goes */
	maybe_replace()
}

/*
 * The end of a lookup's section: a page whose span was live throughout
 * was found, live; rcu_read_unlock().
 */
inline section_end()
{
	assert(want == 0 || live[p] != want || (e == want && st == LIVE));
	rcu_unlock(_pid);
	p = 0; want = 0; t = 0; e = 0; st = 0; b = 0; n = 0;
	k++
}

/*
 * goalloc_span_of(p) inside rcu_read_lock() (or preemption off), then the
 * caller's loads of the span.  p is any pointer into a page of R.  The
 * section begins with its first load and ends with its last: its other
 * steps read nothing shared.
 */
active [2] proctype Reader()
{
	byte k, p, want, t, e, st, b, n, o;

next:
	do
	:: k < NLOOK ->
		if
		:: p = 0
		:: p = 1
		:: p = 2
		fi;
		/* rcu_read_lock(); [M1] rcu_dereference_check() of the table */
		atomic { rd_in = rd_in | (1 << _pid); want = live[p]; t = map };
		/* map->nregions; [M2] rcu_dereference_check(map->region[]) */
		atomic {
			assert(t == 1 || !freed[O_T0]);
			if
			:: tregion[t] -> skip
			:: else -> section_end(); goto next
			fi
		};
		/* [M3] READ_ONCE(a->spans[...]) */
		atomic {
			assert(!freed[O_R]);
			e = rspans[p];
			assert(e == 0 || e == holds[p]);
			if
			:: e != 0 -> skip
			:: else -> section_end(); goto next
			fi
		};
		/* the caller's loads of the span (an address dependency) */
		atomic {
			assert(!freed[e]);
			st = sp_state[e]; b = sp_base[e]; n = sp_npages[e];
			assert(st != 0 && b != UNSET && n != 0);
			assert(st != LIVE || holds[p] == e);
			assert(st != LIVE || (p >= b && p < b + n));
			section_end()
		}
	:: else -> break
	od
}

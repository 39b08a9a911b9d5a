/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mcache_section.pml - a CPU's mcache section against interrupts, the
 * drain, and another CPU taking spans from mcentral.
 *
 * Covers (issue #10, bug 1):
 *   kmod/mcache.h    goalloc_mcache_enter_fast(), goalloc_mcache_enter()
 *                    (which forgets c->last_obj), goalloc_mcache_leave(),
 *                    goalloc_mcache_free() and goalloc_mcache_free_fast_spc()
 *                    (the undo of the take of c->last_obj, then the
 *                    ownership check vs the enter: c->last == s, then
 *                    c->alloc[spc] == s, inside the section),
 *                    goalloc_mcache_take_one() (the fast path; the one
 *                    writer of c->last, and of c->last_obj but to clear it)
 *   kmod/mspan.h     goalloc_span_undo_take()
 *   kmod/malloc.c    goalloc_alloc_node() (the fast path)
 *   kmod/mcache.c    goalloc_mcache_next_free() (refill, grow, install, the
 *                    busy fallback to mcentral), goalloc_mcache_refill(),
 *                    slot_uncache() and goalloc_mcache_uncache() (which
 *                    reset c->last and c->last_obj), slot_install(),
 *                    goalloc_mcache_drain() and its callers (the drain work)
 *   kmod/mcentral.[hc] goalloc_central_free(), goalloc_central_needs_fixup(),
 *                    goalloc_central_cache_span(),
 *                    goalloc_central_uncache_span(), goalloc_central_alloc(),
 *                    goalloc_central_add_span(), goalloc_central_fixup()
 *
 * Variants (cpp defines, e.g. "spin -DOLD -a mcache_section.pml"):
 *   (none)     NEW: goalloc_mcache_free() enters the section first and checks
 *              c->last == s (the span of the CPU's last fast-path take),
 *              then c->alloc[spc] == s, inside it; the drain is per-CPU
 *              work in process context, between the task's sections.
 *              Before those, in the section, the free of c->last_obj
 *              (the object of that take, forgotten by every other section
 *              of the CPU) forgets it and, with no remote free pending on
 *              c->last's span, undoes the take.  Must pass.
 *   OLD        goalloc_mcache_free() checks c->alloc[spc] == s before entering; the
 *              drain is an IPI (an interrupt action).  Must fail.
 *   OLD_FREE   only the free ordering is old (drain as in NEW): the
 *              interrupt's refill alone breaks it.  Must fail.
 *   NEW_IPI    NEW free ordering, drain still an IPI: shows the enter-first
 *              order alone makes the IPI drain safe.  Must pass.
 *   OLD_IPI    the old free ordering, and interrupts that only drain (by
 *              IPI): the drain alone breaks it.  Must fail.
 *   ADD_START  NEW, from a start where the task's allocation must grow
 *              and, while it grows, CPU1 and two interrupts can leave a
 *              free slot in CPU0's current span: install gives the fresh
 *              span to goalloc_central_add_span() untouched.  Must pass.
 *   OLD_ADD    with ADD_START: goalloc_central_add_span() files the fresh
 *              span nobody took an object from as PARTIAL, where no free
 *              will ever come to retire it.  Must fail.
 *   STALE_LAST NEW, but a span leaving c->alloc[] (uncache, drain) does not
 *              reset c->last: the owner's free still finds it there after
 *              mcentral has it.  Must fail (own_cpu, in a free after the
 *              drain).
 *   NO_FORGET  NEW, but goalloc_mcache_enter() does not forget c->last_obj
 *              (slot_uncache() still does, as in the code): a refill that
 *              sweeps the span in place, between the fast take of an
 *              object and its free, leaves c->last_obj naming it, and the
 *              free undoes a take that is no longer the span's last.
 *              NIRQ is 3 unless given: with 2, CPU0 allocates twice at
 *              most (the task once between its frees, the interrupts
 *              once), and this takes three: a refill that leaves a free
 *              slot in S1 (which starts full), the fast take of it, then,
 *              before its taker frees it, another allocation's slow path
 *              that moves S1's freeindex (a refill that sweeps S1 in
 *              place).  Must fail (the undo's freeindex assertion).
 *
 * The OLD_FREE variants keep c->last and c->last_obj but their free reads
 * neither (the free before c->last); every other variant's free reads
 * both.
 *
 * The span internals (take, LIFO free, remote bits, sweep) are modelled as
 * in span_free.pml's NEW protocol but each as one atomic step, and every
 * free here is valid: span_free.pml checks the interleavings inside a span
 * and double frees; this model checks who may touch a span at all.  So a
 * stale c->last_obj here comes from what a section does to the span
 * between the take and the free (a sweep in place), not from a double
 * free.
 *
 * Invariants:
 *  - the owner-only fields of a span (its take and free recording, the
 *    in-place sweep) are changed only by the CPU whose c->alloc[spc] is the
 *    span, in state CACHED for that CPU, inside that CPU's section; or by
 *    mcentral (its lock and the span's lock held, span not cached); a free
 *    that found its span in c->last is checked the same way;
 *  - the fast free's undo of the take of c->last_obj, which checks no slot
 *    in the code, is exact: the object is in c->last's span, live, the
 *    slot just below freeindex, free as of the last sweep and not
 *    recorded freed since;
 *  - no slot handed out twice; a valid free is never refused; no free is
 *    applied to a free slot; no span is retired with a live object;
 *    after a sweep alloc_count equals the live slots;
 *  - at the end, every span on mcentral's lists holds a live object.
 */

#ifdef OLD
#define OLD_FREE
#define DRAIN_IPI
#endif
#ifdef NEW_IPI
#define DRAIN_IPI
#endif
#ifdef OLD_IPI
#define OLD_FREE
#define DRAIN_IPI
#define IRQ_DRAIN_ONLY
#endif

#ifdef NO_FORGET
#ifndef NIRQ
#define NIRQ	3	/* a third allocation on CPU0: see the header */
#endif
#endif
#ifndef NIRQ
#define NIRQ	2	/* interrupts landing on CPU0 */
#endif
#ifndef TOPS
#define TOPS	3	/* task operations on CPU0 */
#endif
#ifndef C1OPS
#define C1OPS	3	/* CPU1 operations */
#endif

#define NS	3	/* spans 1..NS; 0 is goalloc_placeholder_span */
#define NSL	2	/* slots per span */
#define IX(s, j)	((s) * NSL + (j))

/* span states; 0: still in the heap */
#define HEAP	0
#define CACHED	1
#define PARTIAL	2
#define FULL	3
#define DEAD	4
#define FRESH	5	/* from the heap, on no list and in no cache yet */

#define NOCPU	2

/* actors (lock holders) */
#define TASK	1
#define IRQ	2
#define CPU1	3

/* spans */
byte st[NS + 1];
byte scpu[NS + 1];
byte findex[NS + 1];
bit abits[(NS + 1) * NSL];
bit fbits[(NS + 1) * NSL];
bit rbits[(NS + 1) * NSL];
byte nfp[NS + 1];
byte nrem[NS + 1];
byte acnt[NS + 1];
byte sl[NS + 1];	/* span locks */
byte mcl;		/* the class's mcentral lock */

/* per-CPU caches, one span class */
bit busy[2];
byte alloc[2];
byte last[2];		/* c->last: the span of the CPU's last fast-path take, or 0 */
byte last_obj[2];	/* c->last_obj: IX(s, j) of that take's object while no other
			 * section of the CPU has run since, or 0 (IX() >= NSL) */

/* CPU0's interrupt state */
byte irqdepth;		/* locks the task holds (all taken irqsave) */
bit inirq;

/* ghost */
bit live[(NS + 1) * NSL];

#define INUSE(s)	(acnt[s] - nfp[s] - nrem[s])
#define VIEW_ALLOC(s, j)	(!fbits[IX(s, j)] && !rbits[IX(s, j)] && \
				 ((j) < findex[s] || abits[IX(s, j)]))

/* --- locks: spin_lock_irqsave(); no interrupt on CPU0 while the task holds one */

inline lock(l, me)
{
	atomic {
		l == 0 -> l = me;
		if
		:: me == TASK -> irqdepth++
		:: else -> skip
		fi
	}
}

inline unlock(l, me)
{
	atomic {
		l = 0;
		if
		:: me == TASK -> irqdepth--
		:: else -> skip
		fi
	}
}

/* --- the section (goalloc_mcache_enter/leave) ---
 * enter reads busy, then sets it.  An interrupt between the two runs to
 * completion and leaves busy as it found it, so one atomic step is exact.
 */
inline enter(k, ok)
{
	atomic {
		if
		:: busy[k] -> ok = 0
		:: else -> busy[k] = 1; ok = 1
		fi
	}
}

inline leave(k)
{
	busy[k] = 0
}

/*
 * goalloc_mcache_enter() is goalloc_mcache_enter_fast() (the fast take's
 * and the fast free's) and then this: every other section forgets
 * c->last_obj (NO_FORGET: it does not)
 */
inline forget(k)
{
#ifndef NO_FORGET
	last_obj[k] = 0
#else
	skip
#endif
}

/* --- ownership ---------------------------------------------------------- */

inline own_cpu(k, s)
{
	assert(s != 0 && st[s] == CACHED && scpu[s] == k && alloc[k] == s && busy[k])
}

inline own_central(me, s)
{
	assert(s != 0 && mcl == me && sl[s] == me && !(st[s] == CACHED && scpu[s] != NOCPU))
}

/* --- span internals, one atomic step each (see span_free.pml) ----------- */

/* lowest free slot at or above freeindex; j = NSL if none */
inline take(s, j)
{
	d_step {
		j = findex[s];
		do
		:: j < NSL && abits[IX(s, j)] -> j++
		:: else -> break
		od;
		if
		:: j < NSL ->
			assert(!live[IX(s, j)]);
			live[IX(s, j)] = 1;
			findex[s] = j + 1;
			acnt[s]++
		:: else -> skip
		fi
	}
}

inline owner_free(s, i)
{
	d_step {
		assert(VIEW_ALLOC(s, i));
		assert(live[IX(s, i)]);
		live[IX(s, i)] = 0;
		if
		:: i + 1 == findex[s] && !abits[IX(s, i)] ->
			findex[s] = i;
			acnt[s]--
		:: else ->
			fbits[IX(s, i)] = 1;
			nfp[s]++
		fi
	}
}

/*
 * goalloc_span_undo_take(), the fast free of c->last_obj in the span the
 * code takes from c->last (@ls): it looks at no slot, but steps freeindex
 * back, marks the slot below it free in the alloc cache and lowers
 * alloc_count.  Asserted: what it takes for granted, that the object
 * freed (s, i) is the slot taken last from @ls, still allocated and not
 * freed since; a stale c->last_obj breaks one of these (its effect: the
 * slot below freeindex, live or not, offered again)
 */
inline undo_take(k, ls, s, i)
{
	own_cpu(k, ls);
	d_step {
		assert(ls == s);
		assert(live[IX(s, i)]);
		assert(findex[ls] == i + 1 && !abits[IX(ls, i)]);
		assert(!fbits[IX(ls, i)] && !rbits[IX(ls, i)]);
		live[IX(s, i)] = 0;
		findex[ls]--;
		acnt[ls]--
	}
}

inline sweep(s)
{
	d_step {
		t = 0;
		j = 0;
		do
		:: j < NSL ->
			if
			:: rbits[IX(s, j)] ->
				assert(live[IX(s, j)]);
				live[IX(s, j)] = 0
			:: else -> skip
			fi;
			abits[IX(s, j)] = (abits[IX(s, j)] || j < findex[s]) &&
					  !fbits[IX(s, j)] && !rbits[IX(s, j)];
			fbits[IX(s, j)] = 0;
			rbits[IX(s, j)] = 0;
			t = t + abits[IX(s, j)];
			j++
		:: else -> break
		od;
		acnt[s] = t;
		nfp[s] = 0;
		nrem[s] = 0;
		findex[s] = 0;
		j = 0;
		t = 0;
		do
		:: j < NSL -> t = t + live[IX(s, j)]; j++
		:: else -> break
		od;
		assert(acnt[s] == t)
	}
}

inline retire(s)
{
	d_step {
		j = 0;
		do
		:: j < NSL -> assert(!live[IX(s, j)]); j++
		:: else -> break
		od;
		st[s] = DEAD
	}
}

/* --- mcentral (both locks held inside) ----------------------------------- */

/* a span mcentral just got: retire it, or file it as PARTIAL or FULL */
inline central_place(me, s)
{
	own_central(me, s);
	if
	:: INUSE(s) <= 0 ->
		sweep(s);
		if
		:: acnt[s] == 0 -> retire(s)
		:: else -> st[s] = (acnt[s] < NSL -> PARTIAL : FULL)
		fi
	:: else -> st[s] = (INUSE(s) < NSL -> PARTIAL : FULL)
	fi
}

/* goalloc_central_uncache_span(): @s is already out of CPU k's mcache */
inline central_uncache(me, s)
{
	lock(mcl, me);
	lock(sl[s], me);
	scpu[s] = NOCPU;
	central_place(me, s);
	unlock(sl[s], me);
	unlock(mcl, me)
}

/* a PARTIAL span, nondeterministically (list order is not modelled) */
inline pick_partial(s)
{
	if
	:: st[1] == PARTIAL -> s = 1
	:: st[2] == PARTIAL -> s = 2
	:: st[3] == PARTIAL -> s = 3
	:: else -> s = 0
	fi
}

/* goalloc_central_cache_span(): s = 0 if none */
inline central_cache(me, k, s)
{
	lock(mcl, me);
	pick_partial(s);
	if
	:: s != 0 ->
		lock(sl[s], me);
		own_central(me, s);
		if
		:: nfp[s] != 0 || nrem[s] != 0 -> sweep(s)
		:: else -> skip
		fi;
		t = 0;
		if
		:: INUSE(s) < NSL -> st[s] = CACHED; scpu[s] = k
		:: else -> st[s] = FULL; t = 1	/* (the code tries the next one) */
		fi;
		unlock(sl[s], me);
		if
		:: t -> s = 0
		:: else -> skip
		fi
	:: else -> skip
	fi;
	unlock(mcl, me)
}

/* goalloc_central_alloc(): an object without an mcache; s = 0 if none */
inline central_alloc(me, s, j)
{
	lock(mcl, me);
	pick_partial(s);
	j = NSL;
	if
	:: s != 0 ->
		lock(sl[s], me);
		own_central(me, s);
		take(s, j);
		if
		:: j == NSL && (nfp[s] != 0 || nrem[s] != 0) -> sweep(s); take(s, j)
		:: else -> skip
		fi;
		if
		:: INUSE(s) >= NSL -> st[s] = FULL
		:: else -> skip
		fi;
		unlock(sl[s], me)
	:: else -> skip
	fi;
	if
	:: j == NSL -> s = 0
	:: else -> skip
	fi;
	unlock(mcl, me)
}

/*
 * goalloc_central_add_span(): a fresh span no CPU took; retired if no
 * object was taken from it (OLD_ADD: filed as PARTIAL all the same, where
 * no free will ever come to retire it)
 */
inline central_add(me, s)
{
	lock(mcl, me);
	lock(sl[s], me);
#ifdef OLD_ADD
	st[s] = PARTIAL;
#else
	if
	:: acnt[s] == 0 -> retire(s)
	:: else -> st[s] = (acnt[s] < NSL -> PARTIAL : FULL)
	fi;
#endif
	unlock(sl[s], me);
	unlock(mcl, me)
}

/* goalloc_central_fixup() */
inline central_fixup(me, s)
{
	lock(mcl, me);
	lock(sl[s], me);
	if
	:: st[s] == PARTIAL || st[s] == FULL ->
		if
		:: INUSE(s) <= 0 -> central_place(me, s)
		:: else ->
			if
			:: st[s] == FULL && INUSE(s) < NSL -> st[s] = PARTIAL
			:: else -> skip
			fi
		fi
	:: else -> skip
	fi;
	unlock(sl[s], me);
	unlock(mcl, me)
}

/* goalloc_central_grow(): a fresh span from the heap; s = 0 if none left */
inline grow(s)
{
	atomic {
		if
		:: st[1] == HEAP -> s = 1
		:: else ->
			if
			:: st[2] == HEAP -> s = 2
			:: else ->
				if
				:: st[3] == HEAP -> s = 3
				:: else -> s = 0
				fi
			fi
		fi;
		if
		:: s != 0 -> st[s] = FRESH; scpu[s] = NOCPU
		:: else -> skip
		fi
	}
}

/* --- the mcache ------------------------------------------------------------ */

/*
 * goalloc_mcache_uncache() (slot_uncache()): inside CPU k's section; the
 * one place a span leaves alloc[k], so the one place last[k] is reset,
 * and last_obj[k] with it (STALE_LAST: neither is, and the owner's free
 * still finds the span in last[k]; every section that uncaches has
 * forgotten last_obj[k] on entry anyway, so here it only matters to
 * CPU hot-unplug's drain, not modelled)
 */
inline mcache_uncache(me, k)
{
	s2 = alloc[k];
	if
	:: s2 != 0 ->
		alloc[k] = 0;
#ifndef STALE_LAST
		if
		:: last[k] == s2 -> d_step { last[k] = 0; last_obj[k] = 0 }
		:: else -> skip
		fi;
#endif
		central_uncache(me, s2)
	:: else -> skip
	fi
}

/*
 * An allocation on CPU k by @me: goalloc_alloc_node() fast path, then
 * goalloc_mcache_next_free(): refill (sweep in place or trade the span with mcentral),
 * the busy fallback to mcentral, grow and install.  The object is (os, oj),
 * os = 0 if none.
 */
inline alloc_obj(me, k, os, oj)
{
	os = 0;
	enter(k, ok);
	if
	:: ok ->
		s = alloc[k];
		j = NSL;
		if
		:: s != 0 -> own_cpu(k, s); take(s, j)
		:: else -> skip
		fi;
		if
		:: j < NSL ->
			/*
			 * goalloc_mcache_take_one(): the only writer of last[k]
			 * = s, and of last_obj[k] but to clear it
			 */
			os = s; oj = j;
			d_step { last[k] = s; last_obj[k] = IX(s, j) }
		:: else ->
			/*
			 * goalloc_mcache_next_free(): a section of its own in
			 * the code (goalloc_mcache_enter()), then refill
			 */
			forget(k);
			if
			:: s != 0 && nfp[s] + nrem[s] != 0 ->
				lock(sl[s], me);
				own_cpu(k, s);
				sweep(s);
				unlock(sl[s], me);
				take(s, j);
				if
				:: j < NSL -> os = s; oj = j
				:: else -> skip
				fi
			:: else -> skip
			fi;
			if
			:: os == 0 ->
				mcache_uncache(me, k);
				central_cache(me, k, s);
				if
				:: s != 0 ->
					alloc[k] = s;
					own_cpu(k, s);
					take(s, j);
					assert(j < NSL);
					os = s; oj = j
				:: else -> skip
				fi
			:: else -> skip
			fi
		fi;
		leave(k);
		if
		:: os == 0 ->
			/* grow, outside the section, then install */
			grow(s);
			if
			:: s != 0 ->
				enter(k, ok);
				if
				:: ok ->
					/* goalloc_mcache_install() */
					forget(k);
					s2 = alloc[k];
					j = NSL;
					if
					:: s2 != 0 -> own_cpu(k, s2); take(s2, j)
					:: else -> skip
					fi;
					if
					:: j < NSL ->
						os = s2; oj = j;
						central_add(me, s)
					:: else ->
						mcache_uncache(me, k);
						lock(sl[s], me);
						st[s] = CACHED;
						scpu[s] = k;
						unlock(sl[s], me);
						alloc[k] = s;
						own_cpu(k, s);
						take(s, j);
						os = s; oj = j
					fi;
					leave(k)
				:: else ->
					/* the span is still ours alone: take, then give */
					take(s, j);
					os = s; oj = j;
					central_add(me, s)
				fi
			:: else -> skip
			fi
		:: else -> skip
		fi
	:: else ->
		/* an interrupt inside this CPU's section: mcentral, locked */
		central_alloc(me, os, oj)
	fi
}

/*
 * goalloc_central_free(): the record takes no lock (goalloc_span_free_remote(),
 * whose steps are span_free.pml's); then, from the state read after it,
 * goalloc_central_fixup()
 */
inline free_remote(me, s, i)
{
	assert(st[s] != DEAD && st[s] != HEAP);
	d_step {
		assert(VIEW_ALLOC(s, i));
		rbits[IX(s, i)] = 1;
		nrem[s]++
	};
	fix = (st[s] == PARTIAL || st[s] == FULL) && (st[s] == FULL || INUSE(s) <= 0);
	if
	:: fix -> central_fixup(me, s)
	:: else -> skip
	fi
}

/*
 * goalloc_mcache_free_fast_spc()'s checked path, in the section (entered
 * with goalloc_mcache_enter_fast(): it does not forget c->last_obj)
 */
inline checked_free(me, k, s, i)
{
	if
	:: last[k] == s -> own_cpu(k, s); owner_free(s, i); leave(k)
	:: else ->
		if
		:: alloc[k] == s -> own_cpu(k, s); owner_free(s, i); leave(k)
		:: else -> leave(k); free_remote(me, s, i)
		fi
	fi
}

/* goalloc_mcache_free() on CPU k by @me of the object (s, i) */
inline free_one(me, k, s, i)
{
#ifdef OLD_FREE
	/* check ownership, then enter: an interrupt can land in between */
	if
	:: alloc[k] == s ->
		enter(k, ok);
		if
		:: ok -> own_cpu(k, s); owner_free(s, i); leave(k)
		:: else -> free_remote(me, s, i)
		fi
	:: else -> free_remote(me, s, i)
	fi
#else
	/*
	 * goalloc_mcache_free_fast_spc(): enter, then check ownership inside
	 * the section: first the span of the CPU's last allocation (a hit
	 * needs neither the span map nor the alloc[] test), then alloc[k]
	 */
	enter(k, ok);
	if
	:: ok ->
		if
		:: last_obj[k] == IX(s, i) ->
			/*
			 * the object the fast take handed out last, nothing
			 * else done to the cache since: undo that take, no
			 * check, unless a remote free is pending on the span
			 * of c->last (its watch word)
			 */
			last_obj[k] = 0;
			if
			:: nrem[last[k]] == 0 -> undo_take(k, last[k], s, i); leave(k)
			:: else -> checked_free(me, k, s, i)
			fi
		:: else -> checked_free(me, k, s, i)
		fi
	:: else -> free_remote(me, s, i)
	fi
#endif
}

/*
 * goalloc_mcache_drain() for one class, from drain_this_cpu() or the work.
 * The skip first: enter() opens with an if, and as the first statement of
 * a caller's option its else became the caller's if's else, taken only if
 * no other option is, so the drain never ran where an allocation or a free
 * was possible too
 */
inline drain(me, k)
{
	skip;
	enter(k, ok);
	if
	:: ok -> forget(k); mcache_uncache(me, k); leave(k)
	:: else -> skip		/* an IPI inside the CPU's own section: skipped */
	fi
}

/* --- actors ----------------------------------------------------------------- */

/* CPU0's task: frees p, allocates and frees; the drain work runs between sections */
proctype task() provided (!inirq)
{
	byte s, s2, j, t, hs, hj, ops;
	bit ok, fix;

#ifdef ADD_START
	hs = 0;		/* starts by allocating */
#else
	hs = 1;
	hj = 0;
#endif
	do
	:: ops < TOPS ->
		ops++;
		if
		:: hs != 0 -> free_one(TASK, 0, hs, hj); hs = 0
		:: hs == 0 -> alloc_obj(TASK, 0, hs, hj)
#ifndef DRAIN_IPI
		:: drain(TASK, 0)
#endif
		fi
	:: else -> break
	od
}

/* interrupts on CPU0: each lands between two steps of the task and runs to completion */
proctype irq()
{
	byte s, s2, j, t, hs, hj, n;
	bit ok, fix;

	do
	:: atomic { n < NIRQ && irqdepth == 0 && !inirq -> inirq = 1; n++ };
		if
#ifndef IRQ_DRAIN_ONLY
		:: hs == 0 -> alloc_obj(IRQ, 0, hs, hj)
		:: hs != 0 -> free_one(IRQ, 0, hs, hj); hs = 0
#endif
#ifdef DRAIN_IPI
		:: drain(IRQ, 0)
#endif
		fi;
		inirq = 0
	:: n == NIRQ -> break
	od
}

/* CPU1: process context; allocates (taking spans from mcentral) and frees */
proctype cpu1()
{
	byte s, s2, j, t, hs, hj, ops;
	bit ok, fix;

#ifdef ADD_START
	/* CPU1 holds the object in S1's slot 0 */
	hs = 1;
	hj = 0;
#else
	/* CPU1 holds the object in S1's slot 1, allocated on CPU0 */
	hs = 1;
	hj = 1;
#endif
	do
	:: ops < C1OPS ->
		ops++;
		if
		:: hs == 0 -> alloc_obj(CPU1, 1, hs, hj)
		:: hs != 0 -> free_one(CPU1, 1, hs, hj); hs = 0
		fi
	:: else -> break
	od
}

init
{
	byte s, j, t;

	atomic {
#ifdef ADD_START
		/*
		 * The start that reaches install with a free slot: CPU0's
		 * current span S1 is full (slot 0 CPU1's, slot 1 kept by
		 * someone), S2 full of kept objects, so the task's allocation
		 * must grow; while it grows, CPU1's free moves S1 to the partial
		 * list, an interrupt refills from it and another frees that
		 * object, and install finds the slot.
		 */
		st[1] = CACHED;
		scpu[1] = 0;
		findex[1] = 2;
		acnt[1] = 2;
		live[IX(1, 0)] = 1;
		live[IX(1, 1)] = 1;
		alloc[0] = 1;
		st[2] = FULL;
		scpu[2] = NOCPU;
		abits[IX(2, 0)] = 1;
		abits[IX(2, 1)] = 1;
		acnt[2] = 2;
		live[IX(2, 0)] = 1;
		live[IX(2, 1)] = 1;
#else
		/* S1: CPU0's current span, full: p (slot 0, the task's), slot 1 (CPU1's) */
		st[1] = CACHED;
		scpu[1] = 0;
		findex[1] = 2;
		acnt[1] = 2;
		live[IX(1, 0)] = 1;
		live[IX(1, 1)] = 1;
		alloc[0] = 1;
		/* S2: in mcentral, partial: slot 0 held by someone who keeps it */
		st[2] = PARTIAL;
		scpu[2] = NOCPU;
		abits[IX(2, 0)] = 1;
		acnt[2] = 1;
		live[IX(2, 0)] = 1;
#endif
		/* S3: still in the heap */
		scpu[3] = NOCPU;
		alloc[1] = 0;
		run task();
		run irq();
		run cpu1()
	};
	/*
	 * When everyone is done, a span on mcentral's lists holds a live
	 * object: nothing else would ever retire it (only a free moves a
	 * span there), and its pages would stay in use for good.
	 */
	_nr_pr == 1;
	d_step {
		s = 1;
		do
		:: s <= NS ->
			if
			:: st[s] == PARTIAL || st[s] == FULL ->
				j = 0;
				t = 0;
				do
				:: j < NSL -> t = t + live[IX(s, j)]; j++
				:: else -> break
				od;
				assert(t > 0)
			:: else -> skip
			fi;
			s++
		:: else -> break
		od
	}
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * span_free.pml - owner free vs remote free vs sweep vs a concurrent double
 * free, on one small-object span.
 *
 * Covers (issue #10, bug 2; issue #12, item 4: remote frees without a lock):
 *   kmod/mspan.h  goalloc_span_take_fast(), goalloc_span_allocated(),
 *                 goalloc_span_check_free(), goalloc_span_free_owned()
 *   kmod/mspan.c  goalloc_span_next_free(), goalloc_span_free_remote(),
 *                 goalloc_span_sweep()
 *   kmod/mcache.h goalloc_mcache_free() (which path a free takes)
 *   kmod/mcache.c goalloc_mcache_refill() (sweep in place), mcache_uncache()
 *   kmod/mcentral.[hc] goalloc_central_free(), goalloc_central_needs_fixup(),
 *                 goalloc_central_uncache_span(), goalloc_central_fixup(),
 *                 goalloc_central_cache_span(), span_settle(), span_retire()
 *
 * Variants (cpp defines, e.g. "spin -DOLD -a span_free.pml"):
 *   (none)  the protocol (kmod/models/README.rst): a remote free takes no
 *           lock: it pins the span (nremote++), checks, sets its bit
 *           atomically, unpins if refused, then reads the state and asks
 *           for a fixup; the owner's take looks at the slot's remote bit
 *           while nremote != 0 and drops a stale one; the sweep detects a
 *           slot freed twice (dup) and a remote free of a slot that was
 *           free (stale); mcentral looks again after each placement
 *           (span_settle()) and retires a span only after a sweep, iff
 *           alloc_count == 0 and no remote free is in flight; the inuse
 *           hint is signed and a hint <= 0 means "sweep and look".
 *           Must pass.
 *   NO_PIN  the retire ignores remote frees in flight.  Must fail: a free
 *           that checked the slot before the span was emptied writes into
 *           the object of a retired span.
 *   NO_SETTLE  mcentral decides and writes the state without looking
 *           again.  Must fail: a remote free that read CACHED just before
 *           leaves an empty span on the partial list.
 *   PIN_LATE  nremote counts only bits, incremented after the bit is set
 *           (frees in flight counted apart for the retire).  Must fail:
 *           the owner's take skips the look at a stale bit and the next
 *           sweep frees the new object.
 *   OLD     the protocol before the fix: no remote-bit check at take; the
 *           sweep subtracts nfree_pending + nremote and clears every
 *           recorded bit; retire on inuse == 0 without sweeping; inuse an
 *           unsigned int.  Must report an assertion violation.  Each part
 *           alone must too: OLD_TAKE, OLD_SWEEP, OLD_RETIRE, OLD_HINT.
 *           OLD_HINT is the protocol of the issue's brief with today's
 *           unsigned inuse: a concurrent double free strands the span on
 *           mcentral's full list with no object in it.
 *   N=<n>   slots in the span (default 2).  OPS=<n>: owner operations
 *           (default 3).
 *
 * Actors: the owner CPU's task (allocates, frees what it holds, sweeps,
 * gives the span back to mcentral and takes it again), a remote CPU that
 * frees pointer X (slot 0, handed to it by the owner), and optionally an
 * interrupt on the owner's CPU and the owner itself freeing the same X: a
 * concurrent double (or triple) free.  Which of them free X is chosen
 * nondeterministically at the start, so one run covers the legitimate case
 * (only the remote frees X) and every double free.
 *
 * Ghost state: live[i] (slot i is handed out), gen[i] (how many times it
 * was), and for a pending remote bit the generation it was set against
 * (rgen[i], 0 if the slot was free when the bit was set).  Every free
 * attempt ends up applied (to a live slot, of the generation it named) or
 * reported, exactly once.  At the end no span is stranded on mcentral's
 * full list with a slot that is not live, nor on its partial list with
 * none live.  A remote free never writes into the object (pre_free) of a
 * retired span.
 */

#ifdef OLD
#define OLD_TAKE
#define OLD_SWEEP
#define OLD_RETIRE
#define OLD_HINT
#endif

#ifndef N
#define N 2
#endif
#ifndef OPS
#define OPS 3
#endif

/* span states (enum goalloc_span_state; EMPTY/kept is folded into DEAD) */
#define CACHED	1
#define PARTIAL	2
#define FULL	3
#define DEAD	4

/* lock holders */
#define OWNER	1
#define REMOTE	2
#define IRQ	3

#define X	0	/* slot of the pointer freed concurrently */

/* the span */
byte findex;		/* freeindex */
bit abits[N];		/* alloc_bits, as of the last sweep */
bit fbits[N];		/* free_bits: owner frees */
bit rbits[N];		/* remote_bits: remote frees, under lk */
short nfp;		/* nfree_pending */
short nrem;		/* nremote */
short acnt;		/* alloc_count */
byte st = CACHED;	/* state */
byte lk;		/* the span lock: 0 or the holder */
#ifdef PIN_LATE
byte inflight;		/* remote frees under way, apart from nremote */
#endif

/* the owner's CPU */
bit busy;		/* mcache->busy: the task is inside a section */
bit irqoff;		/* the task holds a lock with interrupts off */
bit inirq;		/* an interrupt is running on the owner's CPU */

/* ghost */
bit live[N];
byte gen[N];
byte rgen[N];
byte attempts[N];
byte applied[N];
byte reported[N];
byte ndouble;		/* extra frees of X: owner and/or interrupt */
bit owner_x, irq_x;	/* do they free X too? */
bit started, done_remote, done_irq;

/*
 * goalloc_span_inuse(), the hint mcentral decides on: alloc_count minus the
 * frees recorded.  A double free records one free too many, so the hint can
 * be below the truth, and below zero.  NEW: a signed hint, and a sweep
 * (exact counts) whenever it is <= 0.  OLD_HINT: today's unsigned int
 * result, which wraps below zero to a huge value (UINUSE).
 */
#ifdef OLD_HINT
#define UINUSE	255
#define INUSE	(acnt - nfp - nrem < 0 -> UINUSE : acnt - nfp - nrem)
#else
#define INUSE	(acnt - nfp - nrem)
#endif
#define VIEW_ALLOC(i)	((i) < findex || abits[i])

/*
 * The span lock, always taken with spin_lock_irqsave(): while the owner's
 * task holds it no interrupt lands on the owner's CPU.
 */
inline lock(me)
{
	atomic { lk == 0 -> lk = me; irqoff = (me == OWNER) }
}

inline unlock(me)
{
	atomic { lk = 0; irqoff = irqoff && me != OWNER }
}

inline report(i)
{
	reported[i]++
}

/* A free takes effect: the slot must be live. */
inline apply(i)
{
	assert(live[i]);
	live[i] = 0;
	applied[i]++
}

/* counts consistent: after a sweep alloc_count is the number of live slots */
inline check_counts()
{
	d_step {
		k = 0;
		t = 0;
		do
		:: k < N -> t = t + live[k]; k++
		:: else -> break
		od;
		assert(acnt == t)
	}
}

/*
 * goalloc_span_sweep(), span lock held by the span's owner.  Remote frees
 * take no lock: each remote word is taken with xchg() (one step here, the
 * model's span being one word), and nremote loses what was taken.  The
 * freeindex reset is a step of its own after the bitmaps (smp_wmb()), so a
 * remote check may read the new bitmaps with the old freeindex.
 */
inline sweep()
{
	d_step {
		swfreed = 0;
		t = 0;
		k = 0;
		do
		:: k < N ->
#ifdef OLD_SWEEP
			/* every recorded bit frees the slot, counted per bit */
			if
			:: rbits[k] -> assert(rgen[k] == gen[k]); apply(k)
			:: else -> skip
			fi;
#else
			if
			:: fbits[k] && rbits[k] ->
				/* dup: the owner's free was applied when recorded */
				report(k)
			:: rbits[k] && !fbits[k] && !VIEW_ALLOC(k) ->
				/* stale: the slot was already free */
				report(k)
			:: rbits[k] && !fbits[k] && VIEW_ALLOC(k) ->
				/* a remote free of the generation it named */
				assert(rgen[k] == gen[k]);
				apply(k);
				swfreed++
			:: fbits[k] && !rbits[k] -> swfreed++
			:: else -> skip
			fi;
#endif
			t = t + rbits[k];
			abits[k] = (abits[k] || k < findex) && !fbits[k] && !rbits[k];
			k++
		:: else -> break
		od;
#ifdef OLD_SWEEP
		acnt = acnt - nfp - nrem;
#else
		k = 0;
		acnt = 0;
		do
		:: k < N -> acnt = acnt + abits[k]; k++
		:: else -> break
		od;
#endif
		k = 0;
		do
		:: k < N -> fbits[k] = 0; rbits[k] = 0; rgen[k] = 0; k++
		:: else -> break
		od;
		nfp = 0;
#ifdef OLD_SWEEP
		nrem = 0
#else
		nrem = nrem - t
#endif
	};
	findex = 0;
	check_counts()
}

/* span_retire(): no live object may be left */
inline retire()
{
	d_step {
		k = 0;
		do
		:: k < N -> assert(!live[k]); k++
		:: else -> break
		od;
		st = DEAD
	}
}

/*
 * span_settle(): after mcentral placed a span (PARTIAL or FULL), look
 * again until nothing changes: a FULL span with a free pending goes
 * partial; a span that may be empty is swept, and retired if it is and no
 * remote free is in flight (nremote counts those); a sweep that freed
 * something looks again.  Both locks held (the span lock stands for both).
 * NO_PIN: retire whatever nremote says.
 */
inline settle()
{
	do
	:: st == FULL && INUSE < N -> st = PARTIAL
	:: else ->
		if
		:: INUSE > 0 -> break
		:: else ->
#ifdef OLD_RETIRE
			/* retire on the hint, sweeping the kept span after */
			sweep();
			retire();
			break
#else
			sweep();
			if
#ifdef NO_PIN
			:: acnt == 0 -> retire(); break
#elif defined(PIN_LATE)
			:: acnt == 0 && nrem == 0 && inflight == 0 -> retire(); break
#else
			:: acnt == 0 && nrem == 0 -> retire(); break
#endif
			:: else ->
				if
				:: swfreed == 0 -> break
				:: else -> skip
				fi
			fi
#endif
		fi
	od
}

/*
 * mcentral places a span a CPU gave back (goalloc_central_uncache_span()):
 * the decision from the counts, then the state written, a separate step
 * (GOALLOC_HOOK_CENTRAL_DECIDED sits between them), then span_settle().
 * NO_SETTLE: no second look; the empty check comes first, as before
 * remote frees went lock-free.
 */
inline central_place()
{
#ifdef NO_SETTLE
	if
	:: INUSE <= 0 ->
		sweep();
		if
		:: acnt == 0 && nrem == 0 -> retire()
		:: else -> skip
		fi
	:: else -> skip
	fi;
	if
	:: st != DEAD ->
		to = (INUSE < N -> PARTIAL : FULL);
		st = to
	:: else -> skip
	fi
#else
	to = (INUSE < N -> PARTIAL : FULL);
	st = to;
	settle()
#endif
}

/* goalloc_central_fixup() */
inline fixup(me)
{
	lock(me);
	if
	:: st == PARTIAL || st == FULL -> settle()
	:: else -> skip
	fi;
	unlock(me)
}

/*
 * goalloc_central_free() + goalloc_span_free_remote(), no lock: refuse a
 * dead span; pin (nremote++); the checks on racily read owner fields, one
 * step per read as the code makes them (free and remote bits, freeindex,
 * alloc bit; the remote bit only with pre-free work, so either); make the
 * object free (goalloc_pre_free(): it writes into the object, so its span
 * must not have been retired); test_and_set the bit;
 * on a refusal unpin.  Then goalloc_central_needs_fixup(): the state, then the counts.
 * PIN_LATE: nremote counts the bits only, incremented after the bit is set;
 * the retire still waits for frees in flight (a count of its own), so only
 * the owner's gate (take looks at bits only while nremote != 0) is wrong.
 */
inline remote_free(me, i)
{
	attempts[i]++;
	if
	:: st == DEAD -> report(i); fix = 0
	:: else ->
#ifdef PIN_LATE
		inflight++;
#else
		nrem++;
#endif
		if
		:: st == DEAD -> ok = 0
		:: else ->
			/*
			 * The remote bit is read here only with pre-free work
			 * (goalloc_span_check_remote_slot()); without, the
			 * test_and_set below decides: either path, any free.
			 */
			if
			:: ok = !fbits[i] && !rbits[i]
			:: ok = !fbits[i]
			fi;
			if
			:: ok ->
				if
				:: i < findex -> skip
				:: else -> ok = abits[i]
				fi
			:: else -> skip
			fi
		fi;
		if
		:: ok ->
			/* goalloc_pre_free() writes into the object */
			assert(st != DEAD);
			d_step {
				if
				:: rbits[i] -> ok = 0
				:: else ->
					rbits[i] = 1;
					rgen[i] = (live[i] -> gen[i] : 0)
				fi
			}
		:: else -> skip
		fi;
#ifdef PIN_LATE
		if
		:: ok -> nrem++
		:: else -> report(i)
		fi;
		inflight--;
#else
		if
		:: !ok -> nrem--; report(i)
		:: else -> skip
		fi;
#endif
		fix = (st == PARTIAL || st == FULL);
		if
		:: fix -> fix = (st == FULL || INUSE <= 0)
		:: else -> skip
		fi
	fi;
	if
	:: fix -> fixup(me)
	:: else -> skip
	fi
}

/*
 * goalloc_span_owner_free() (goalloc_span_check_free() +
 * goalloc_span_free_owned()), by the owner: the slot's remote bit is looked
 * at only while nremote != 0, read first (the gate, as in take(); the slow
 * path's check reads the bit always, which this covers: a bit the gate
 * misses was set after the read of nremote).
 */
inline owner_free(i)
{
	attempts[i]++;
	chk = (nrem != 0);
	ok = !fbits[i] && !(chk && rbits[i]) && VIEW_ALLOC(i);
	if
	:: !ok -> report(i)
	:: ok && i + 1 == findex && !abits[i] ->
		/* LIFO: the slot goes straight back into the alloc cache */
		d_step { findex = i; acnt--; apply(i) }
	:: ok && !(i + 1 == findex && !abits[i]) ->
		d_step { fbits[i] = 1; nfp++; apply(i) }
	fi
}

/*
 * goalloc_span_take_fast() / goalloc_span_next_free(), by the owner: the
 * lowest free slot at or above freeindex.  The take is linearised at the
 * step that picks the slot (and, NEW, reads its remote bit).
 */
inline take(j)
{
	/* the gate: remote bits are looked at only while nremote != 0 */
	chk = (nrem != 0);
	d_step {
		j = findex;
		do
		:: j < N && abits[j] -> j++
		:: else -> break
		od;
		if
		:: j < N ->
			assert(!live[j]);
			live[j] = 1;
			gen[j]++;
			seen = chk && rbits[j]
		:: else -> seen = 0
		fi
	};
	if
	:: j < N ->
#ifndef OLD_TAKE
		if
		:: seen ->
			/* a stale remote free of a slot freed LIFO: test_and_clear_bit */
			d_step {
				if
				:: rbits[j] -> rbits[j] = 0; rgen[j] = 0; nrem--; report(j)
				:: else -> skip
				fi
			}
		:: else -> skip
		fi;
#endif
		d_step { findex = j + 1; acnt++ }
	:: else -> skip
	fi
}

proctype owner() provided (!inirq)
{
	byte ops, j, k, held, t, to, swfreed;
	bit ok, fix, seen, xdone, chk;

	started = 1;
	do
	:: ops < OPS ->
		ops++;
		if
		:: st == CACHED ->
			/* allocate */
			busy = 1;
			take(j);
			if
			:: j < N -> held = held | (1 << j)
			:: else -> skip
			fi;
			busy = 0
		:: st == CACHED ->
			/* refill: sweep in place */
			busy = 1;
			lock(OWNER);
			sweep();
			unlock(OWNER);
			busy = 0
		:: st == CACHED ->
			/* refill or drain: give the span back to mcentral */
			busy = 1;
			lock(OWNER);
			central_place();
			unlock(OWNER);
			busy = 0
		:: st == PARTIAL ->
			/* goalloc_central_cache_span(): take it back */
			busy = 1;
			lock(OWNER);
			if
			:: nfp != 0 || nrem != 0 -> sweep()
			:: else -> skip
			fi;
			if
			:: INUSE < N -> st = CACHED
			:: else -> st = FULL; settle()
			fi;
			unlock(OWNER);
			busy = 0
		:: held != 0 ->
			/* free one of the owner's own objects */
			j = 0;
			do
			:: (held >> j) & 1 -> break
			:: j < N - 1 && (held >> (j + 1)) != 0 -> j++
			od;
			held = held & ~(1 << j);
			if
			:: st == CACHED -> busy = 1; owner_free(j); busy = 0
			:: else -> remote_free(OWNER, j)
			fi
		:: owner_x && !xdone ->
			/* the owner frees X too: a double free */
			xdone = 1;
			if
			:: st == CACHED -> busy = 1; owner_free(X); busy = 0
			:: else -> remote_free(OWNER, X)
			fi
		:: else -> skip
		fi
	:: else -> break
	od;

	/* Quiesce, then fold what is pending and check the books. */
	(done_remote && done_irq);
	if
	:: owner_x && !xdone -> remote_free(OWNER, X)
	:: else -> skip
	fi;
	/*
	 * No span is stranded: one on mcentral's full list (which nothing
	 * allocates from or sweeps until a free moves it) has every slot live.
	 */
	d_step {
		k = 0;
		t = 0;
		do
		:: k < N -> t = t + live[k]; k++
		:: else -> break
		od;
		assert(st != FULL || t == N);
		/* nor on the partial list with nothing in it: it would hold its pages */
		assert(st != PARTIAL || t > 0)
	};
	lock(OWNER);
	if
	:: st != DEAD -> sweep()
	:: else -> skip
	fi;
	unlock(OWNER);
	k = 0;
	t = 0;
	do
	:: k < N ->
		/* each free attempt applied or reported, exactly once */
		assert(attempts[k] == applied[k] + reported[k]);
		t = t + reported[k];
		k++
	:: else -> break
	od;
	/* without a double free nothing is reported (no valid free refused) */
	assert(ndouble != 0 || t == 0)
}

/* the remote CPU: frees X, the pointer the owner handed it */
proctype remote()
{
	byte k, t, swfreed;
	bit ok, fix;

	started;
	remote_free(REMOTE, X);
	done_remote = 1
}

/*
 * An interrupt on the owner's CPU that frees X: it lands between any two
 * steps of the task (not while the task holds a lock with interrupts off)
 * and runs to completion.  Inside a section it takes the remote path;
 * outside one, on a span this CPU caches, it is the owner.
 */
proctype irq()
{
	byte k, t, swfreed;
	bit ok, fix, chk;

	if
	:: irq_x ->
		atomic { started && !irqoff && !inirq -> inirq = 1 };
		if
		:: !busy && st == CACHED -> busy = 1; owner_free(X); busy = 0
		:: else -> remote_free(IRQ, X)
		fi;
		inirq = 0
	:: else -> skip
	fi;
	done_irq = 1
}

init
{
	atomic {
		/* the owner allocated X before handing it to the remote CPU */
		findex = X + 1;
		acnt = 1;
		live[X] = 1;
		gen[X] = 1;
		if
		:: owner_x = 0
		:: owner_x = 1
		fi;
		if
		:: irq_x = 0
		:: irq_x = 1
		fi;
		ndouble = owner_x + irq_x;
		run owner();
		run remote();
		run irq()
	}
}

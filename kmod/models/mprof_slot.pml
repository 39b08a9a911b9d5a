/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mprof_slot.pml - the owner's fast free against the allocation-site
 * profile's records (a span's prof_slot), on one span of two slots.
 *
 * Covers:
 *   kmod/mspan.h   goalloc_span_owner_free_at() (one read of the span's
 *                  watch word, prof_slot within it)
 *   kmod/mprof.c   goalloc_mprof_sample() (record, prof_slot, nprof under
 *                  mprof_lock), obj_forget() (the record dropped)
 *   kmod/malloc.c  free_slow() -> goalloc_observe_free() (the slow path
 *                  drops the record before the object is freed)
 *
 * The profile records a sampled object before the allocation returns it,
 * and the record must be dropped before the object is freed: a free that
 * took the owner's fast path for an object with a record would leave the
 * record to match the next object at that address.  The owner's fast free
 * reads prof_slot once, without the lock: 0 (no sample in the span), the
 * sampled slot + 1 (one sample), or ANY (two or more: every free is the
 * slow path's until the last record goes).  Slot 0 is handed out twice
 * (objects 0 and 2), so a record of a dead object would be seen.
 *
 * Variants (cpp defines):
 *   (none)     as the code.  Must pass.
 *   LAST_WINS  each sample writes its own slot, even with a sample already
 *              in the span.  Must fail: the first sample's free reads the
 *              second's slot and takes the fast path.
 *   FORGET_ONE when two samples become one, prof_slot goes back to 0.
 *              Must fail: the remaining sample's free takes the fast path.
 */
#define ANY	3

byte prof_slot = 0;	/* 0 none, slot + 1, or ANY */
byte nprof = 0;
bool rec[3];		/* object o has a record */
bool out[3];		/* object o handed out (sampled or not) */
bool freed[3];
bool lk = 0;

inline lock()
{
	atomic { lk == 0 -> lk = 1 }
}

inline unlock()
{
	lk = 0
}

inline sample(o, slot)
{
	lock();
	rec[o] = 1;
#ifdef LAST_WINS
	prof_slot = slot + 1;
#else
	if
	:: nprof > 0 -> prof_slot = ANY
	:: else -> prof_slot = slot + 1
	fi;
#endif
	nprof++;
	unlock()
}

inline drop(o)
{
	lock();
	if
	:: rec[o] ->
		rec[o] = 0;
		nprof--;
		if
		:: nprof == 0 -> prof_slot = 0
#ifdef FORGET_ONE
		:: nprof == 1 -> prof_slot = 0
#endif
		:: else -> skip
		fi
	:: else -> skip
	fi;
	unlock()
}

/* The span's owner allocates: object 0 and 1, then 2 in slot 0 again. */
proctype Alloc()
{
	if
	:: sample(0, 0)
	:: skip
	fi;
	out[0] = 1;
	if
	:: sample(1, 1)
	:: skip
	fi;
	out[1] = 1;
	freed[0];
	if
	:: sample(2, 0)
	:: skip
	fi;
	out[2] = 1
}

/* The object's free, on the owner's CPU, whenever its holder frees it. */
proctype Free(byte o; byte slot)
{
	byte ps;

	out[o];
	ps = prof_slot;
	if
	:: ps != 0 && (ps == slot + 1 || ps == ANY) ->
		drop(o)		/* the slow path */
	:: else ->
		assert(!rec[o])	/* the fast path: no record may be left */
	fi;
	freed[o] = 1
}

init
{
	atomic {
		run Alloc();
		run Free(0, 0);
		run Free(1, 1);
		run Free(2, 0)
	}
	freed[0] && freed[1] && freed[2];
	/* Every record gone, and the span's word back to zero. */
	assert(nprof == 0 && prof_slot == 0 && !rec[0] && !rec[1] && !rec[2])
}

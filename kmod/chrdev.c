// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/goalloc: userspace's door to goalloc.  Each open file is a user
 * arena (uarena.c); this file is the misc device around it: the ioctls and
 * their argument checks, mmap, and the fault handler.
 *
 * Every arena gets an inode of its own on a small internal filesystem, and
 * its file's f_mapping points at that inode's address space (as DRM does
 * for its device files).  All mappings of the arena, in every process that
 * holds the file, are then in one address space of their own, and
 * unmap_mapping_range() on it zaps exactly this arena's pages everywhere.
 *
 * Mappings are VM_PFNMAP: the pages are goalloc's, mapped by pfn, never
 * refcounted by the mapping nor pinnable by get_user_pages(), so no
 * reference can outlive a reset or a free that gives them back to the heap.
 *
 * Locking: the arena's mutex is never held across user memory accesses;
 * arguments are copied in before and results copied out after, because a
 * user buffer may lie in the arena's own mapping and fault into it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../uapi/linux/goalloc.h"
#include "compat.h"
#include "hooks.h"
#include "internal.h"
#include "uarena.h"

/* The largest object the ABI allows fits a span of the heap. */
static_assert(GOALLOC_MAX_OBJECT <= GOALLOC_MAX_LARGE);

/* Who may open the device: root only unless the administrator says more. */
static ushort goalloc_dev_mode = 0600;
module_param_named(dev_mode, goalloc_dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "Permissions of /dev/goalloc (0600)");

#define GOALLOC_FS_MAGIC	0x676f616c	/* "goal" */

/* The internal filesystem that holds one inode per arena. */
static struct vfsmount *goalloc_mnt;

static int goalloc_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, GOALLOC_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type goalloc_fs_type = {
	.name = "goalloc",
	.init_fs_context = goalloc_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static int goalloc_open(struct inode *inode, struct file *file)
{
	struct goalloc_uarena *ua;
	struct inode *ai;

	ai = alloc_anon_inode(goalloc_mnt->mnt_sb);
	if (IS_ERR(ai))
		return PTR_ERR(ai);
	ua = goalloc_uarena_create(ai->i_mapping);
	if (!ua) {
		iput(ai);
		return -ENOMEM;
	}
	file->f_mapping = ai->i_mapping;
	file->private_data = ua;
	return 0;
}

static int goalloc_release(struct inode *inode, struct file *file)
{
	struct goalloc_uarena *ua = file->private_data;
	struct inode *ai = ua->mapping->host;

	goalloc_uarena_destroy(ua);
	iput(ai);
	return 0;
}

static void goalloc_vm_open(struct vm_area_struct *vma)
{
	struct goalloc_uarena *ua = vma->vm_file->private_data;

	atomic_long_inc(&ua->nmaps);
}

static void goalloc_vm_close(struct vm_area_struct *vma)
{
	struct goalloc_uarena *ua = vma->vm_file->private_data;

	atomic_long_dec(&ua->nmaps);
}

static vm_fault_t goalloc_vm_fault(struct vm_fault *vmf)
{
	return goalloc_uarena_fault(vmf->vma->vm_file->private_data, vmf->vma, vmf->pgoff);
}

static const struct vm_operations_struct goalloc_vm_ops = {
	.open = goalloc_vm_open,
	.close = goalloc_vm_close,
	.fault = goalloc_vm_fault,
};

static int goalloc_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct goalloc_uarena *ua = file->private_data;
	int err;

	/* A private copy of a PFN mapping cannot be made: shared only. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	err = goalloc_uarena_map(ua, vma->vm_pgoff, vma_pages(vma));
	if (err)
		return err;
	goalloc_vm_flags_mod(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	vma->vm_ops = &goalloc_vm_ops;
	return 0;
}

/*
 * Copy in an argument that starts with its own size: at least @minsz bytes
 * (the first version), at most a page; unknown trailing bytes must be zero.
 */
static int get_arg(void *karg, size_t ksize, size_t minsz, const void __user *uarg,
		   u32 *argszp)
{
	u32 argsz;

	if (get_user(argsz, (const u32 __user *)uarg))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	if (argsz > PAGE_SIZE)
		return -E2BIG;
	*argszp = argsz;
	return copy_struct_from_user(karg, ksize, uarg, argsz);
}

/* Copy a result back: the fields both sides know. */
static int put_arg(void __user *uarg, const void *karg, size_t ksize, u32 argsz)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, argsz)) ? -EFAULT : 0;
}

static long ioc_setup(struct goalloc_uarena *ua, void __user *uarg)
{
	struct goalloc_setup a;
	u32 argsz;
	int err;

	err = get_arg(&a, sizeof(a), offsetofend(struct goalloc_setup, max_size), uarg, &argsz);
	if (err)
		return err;
	if (a.flags)
		return -EINVAL;
	/* The result must be deliverable before the cap changes. */
	if (put_arg(uarg, &a, sizeof(a), argsz))
		return -EFAULT;
	err = goalloc_uarena_setup(ua, &a.max_size);
	if (err)
		return err;
	return put_arg(uarg, &a, sizeof(a), argsz);
}

/*
 * Batches up to this many objects use a buffer on the stack, not
 * kvmalloc(): a one-object call is most of what a thread cache's misses
 * and the plain library's single-object calls make.
 */
#define IOC_STACK_BATCH	16

static long ioc_alloc(struct goalloc_uarena *ua, void __user *uarg)
{
	u64 stack_offs[IOC_STACK_BATCH];
	struct goalloc_uarena_ticket t;
	struct goalloc_alloc a;
	void __user *uoffs;
	bool out_fields;
	u64 *offs;
	u32 argsz;
	int err;

	err = get_arg(&a, sizeof(a), offsetofend(struct goalloc_alloc, offsets), uarg, &argsz);
	if (err)
		return err;
	if (a.flags & ~GOALLOC_ALLOC_ZERO)
		return -EINVAL;
	if (!a.size || !a.count)
		return -EINVAL;
	if (a.size > GOALLOC_MAX_OBJECT || a.count > GOALLOC_MAX_BATCH)
		return -E2BIG;
	uoffs = u64_to_user_ptr(a.offsets);
	/* Prove the output writable before anything is allocated. */
	if (clear_user(uoffs, a.count * sizeof(u64)))
		return -EFAULT;
	/* @obj_size and @gen go back only to a caller that knows them. */
	out_fields = argsz >= offsetofend(struct goalloc_alloc, gen);
	if (out_fields && put_arg(uarg, &a, sizeof(a), argsz))
		return -EFAULT;
	if (a.count <= IOC_STACK_BATCH)
		offs = stack_offs;
	else
		offs = kvmalloc_array(a.count, sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!offs)
		return -ENOMEM;
	err = goalloc_uarena_alloc(ua, a.size, a.count, a.flags & GOALLOC_ALLOC_ZERO, offs,
				   &t);
	if (!err) {
		struct goalloc_uarena_copyout co = {
			.ua = ua, .count = a.count, .offsets = offs, .uoffsets = uoffs,
		};

		goalloc_hook(GOALLOC_HOOK_UARENA_COPYOUT, &co);
	}
	if (!err && copy_to_user(uoffs, offs, a.count * sizeof(u64))) {
		/*
		 * Unmapped under us (by another thread, or by a free that
		 * emptied the span the buffer lies in): take back what is
		 * still certainly ours; see goalloc_uarena_undo().
		 */
		goalloc_uarena_undo(ua, &t, a.count, offs);
		err = -EFAULT;
	}
	if (!err && out_fields) {
		a.obj_size = t.obj_size;
		a.gen = t.gen;
		/*
		 * Proven writable above; if another thread has unmapped it
		 * since, the call fails as for @offsets, and takes back what
		 * is still certainly its own.
		 */
		if (put_arg(uarg, &a, sizeof(a), argsz)) {
			goalloc_uarena_undo(ua, &t, a.count, offs);
			err = -EFAULT;
		}
	}
	if (offs != stack_offs)
		kvfree(offs);
	return err;
}

static long ioc_free(struct goalloc_uarena *ua, void __user *uarg)
{
	u64 stack_offs[IOC_STACK_BATCH];
	s32 stack_res[IOC_STACK_BATCH];
	bool on_stack;
	struct goalloc_free a;
	void __user *ures;
	s32 *res = NULL;
	u32 argsz, nfreed;
	u64 *offs;
	int err;

	err = get_arg(&a, sizeof(a), offsetofend(struct goalloc_free, nfreed), uarg, &argsz);
	if (err)
		return err;
	if (a.flags & ~(GOALLOC_FREE_GEN | GOALLOC_FREE_KEEP))
		return -EINVAL;
	if (!a.count)
		return -EINVAL;
	if (a.count > GOALLOC_MAX_BATCH)
		return -E2BIG;
	ures = u64_to_user_ptr(a.results);
	on_stack = a.count <= IOC_STACK_BATCH;
	if (on_stack) {
		offs = stack_offs;
		if (a.results)
			res = stack_res;
	} else {
		offs = kvmalloc_array(a.count, sizeof(u64), GFP_KERNEL_ACCOUNT);
		if (a.results)
			res = kvmalloc_array(a.count, sizeof(s32), GFP_KERNEL_ACCOUNT);
	}
	if (!offs || (a.results && !res)) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * All input first: @results (or the argument itself) may overlap
	 * @offsets, and what the kernel writes must not change what it reads.
	 */
	if (copy_from_user(offs, u64_to_user_ptr(a.offsets), a.count * sizeof(u64))) {
		err = -EFAULT;
		goto out;
	}
	/* @nfreed and @results must be deliverable before anything is freed. */
	if (put_arg(uarg, &a, sizeof(a), argsz) ||
	    (a.results && clear_user(ures, a.count * sizeof(s32)))) {
		err = -EFAULT;
		goto out;
	}
	err = goalloc_uarena_free_batch(ua, a.count, offs, res, a.flags & GOALLOC_FREE_KEEP,
					a.flags & GOALLOC_FREE_GEN ? &a.gen : NULL, &nfreed);
	if (err) {
		/* Nothing freed; @nfreed was proven writable above. */
		a.nfreed = 0;
		put_arg(uarg, &a, sizeof(a), argsz);
		goto out;
	}
	a.nfreed = nfreed;
	if (res && copy_to_user(ures, res, a.count * sizeof(s32)))
		err = -EFAULT;
	else
		err = put_arg(uarg, &a, sizeof(a), argsz);
out:
	if (!on_stack) {
		kvfree(res);
		kvfree(offs);
	}
	return err;
}

static long ioc_reset(struct goalloc_uarena *ua, void __user *uarg)
{
	struct goalloc_reset a;
	u32 argsz;
	int err;

	err = get_arg(&a, sizeof(a), offsetofend(struct goalloc_reset, flags), uarg, &argsz);
	if (err)
		return err;
	if (a.flags)
		return -EINVAL;
	goalloc_uarena_reset(ua);
	return 0;
}

/*
 * One size class as the ABI reports it: goalloc as a whole, the kernel's
 * callers (mstats.c) and the user arenas (uarena.c) together.
 */
static void class_stat(unsigned int cls, struct goalloc_class_stat *cs)
{
	struct goalloc_uarena_class_stats u;

	goalloc_class_stat(cls, cs);
	goalloc_uarena_class_stats(cls, &u);
	cs->nalloc += u.nalloc;
	cs->nfree += u.nfree;
	cs->objs_inuse = cs->nalloc - cs->nfree;
	cs->spans += max(u.nspans, 0L);
	/* The kernel's spans by their pages (two shapes); an arena's by its class's. */
	if (cls)
		cs->bytes_held += max(u.nspans, 0L) * cs->span_bytes;
}

static long ioc_stats(struct goalloc_uarena *ua, void __user *uarg)
{
	struct goalloc_uarena_stats st;
	struct goalloc_stats a;
	u32 argsz, cls, n;
	size_t esz;
	int err;

	err = get_arg(&a, sizeof(a), offsetofend(struct goalloc_stats, classes), uarg, &argsz);
	if (err)
		return err;
	if (a.flags)
		return -EINVAL;
	if (a.class_stat_size > PAGE_SIZE)
		return -E2BIG;
	n = a.class_stat_size && a.classes ? min_t(u32, a.nclasses, GOALLOC_NUM_CLASSES) : 0;
	/*
	 * The per-class view counts every allocation of the kernel's callers:
	 * as /proc/slabinfo (mode 0400), it is for the privileged only.
	 */
	if (n && !perfmon_capable())
		return -EPERM;
	esz = min_t(size_t, a.class_stat_size, sizeof(struct goalloc_class_stat));
	for (cls = 0; cls < n; cls++) {
		void __user *e = u64_to_user_ptr(a.classes + (u64)cls * a.class_stat_size);
		struct goalloc_class_stat cs;

		class_stat(cls, &cs);
		if (copy_to_user(e, &cs, esz) ||
		    clear_user(e + esz, a.class_stat_size - esz))
			return -EFAULT;
	}
	goalloc_uarena_stats(ua, &st);
	a.max_size = st.max_bytes;
	a.objects = st.objects;
	a.bytes_allocated = st.bytes_allocated;
	a.bytes_held = st.bytes_held;
	a.bytes_charged = st.bytes_charged;
	a.spans = st.nspans;
	a.nalloc = st.nalloc;
	a.nfree = st.nfree;
	a.nreset = st.nreset;
	a.heap_bytes = st.heap_bytes;
	a.heap_inuse_bytes = st.heap_inuse_bytes;
	a.heap_chunks = st.heap_chunks;
	a.arenas = st.narenas;
	a.nclasses = GOALLOC_NUM_CLASSES;
	return put_arg(uarg, &a, sizeof(a), argsz);
}

/**
 * goalloc_uarena_ioctl() - one /dev/goalloc ioctl on an arena
 * @ua: the arena
 * @cmd: GOALLOC_IOC_*
 * @uarg: the user's argument structure
 *
 * Return: 0 or a negative errno, as uapi/linux/goalloc.h documents.
 */
long goalloc_uarena_ioctl(struct goalloc_uarena *ua, unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case GOALLOC_IOC_SETUP:
		return ioc_setup(ua, uarg);
	case GOALLOC_IOC_ALLOC:
		return ioc_alloc(ua, uarg);
	case GOALLOC_IOC_FREE:
		return ioc_free(ua, uarg);
	case GOALLOC_IOC_RESET:
		return ioc_reset(ua, uarg);
	case GOALLOC_IOC_STATS:
		return ioc_stats(ua, uarg);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_ioctl);

static long goalloc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return goalloc_uarena_ioctl(file->private_data, cmd, (void __user *)arg);
}

static const struct file_operations goalloc_fops = {
	.owner = THIS_MODULE,
	.open = goalloc_open,
	.release = goalloc_release,
	.mmap = goalloc_mmap,
	.unlocked_ioctl = goalloc_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice goalloc_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "goalloc",
	.fops = &goalloc_fops,
};

int goalloc_chrdev_init(void)
{
	int err;

	err = goalloc_uarena_init();
	if (err)
		return err;
	goalloc_mnt = kern_mount(&goalloc_fs_type);
	if (IS_ERR(goalloc_mnt)) {
		goalloc_uarena_exit();
		return PTR_ERR(goalloc_mnt);
	}
	goalloc_misc.mode = goalloc_dev_mode;
	err = misc_register(&goalloc_misc);
	if (err) {
		kern_unmount(goalloc_mnt);
		goalloc_uarena_exit();
	}
	return err;
}

void goalloc_chrdev_exit(void)
{
	misc_deregister(&goalloc_misc);
	kern_unmount(goalloc_mnt);
	goalloc_uarena_exit();
}

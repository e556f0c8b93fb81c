/* faultvfs: the default VFS with writes that fail on demand (see faultvfs.h).
 * Every method delegates to the real file; only xWrite looks at the flag. */
#include "faultvfs.h"

#include <sqlite3.h>
#include <string.h>

typedef struct {
    sqlite3_file base;
    sqlite3_file *real; /* lives right after this struct */
    char suffix_match;  /* the file's name matched the failing suffix */
    const char *name;
} faultvfs_file_t;

static sqlite3_vfs faultvfs;
static sqlite3_vfs *faultvfs_real;
static const char *faultvfs_suffix;

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((faultvfs_file_t *)f)->real;
}

static int fv_close(sqlite3_file *f)
{
    return real_of(f)->pMethods->xClose(real_of(f));
}

static int fv_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

static int fv_matches(const faultvfs_file_t *f)
{
    if (!faultvfs_suffix || !f->name)
        return 0;
    size_t n = strlen(f->name), k = strlen(faultvfs_suffix);
    return n >= k && strcmp(f->name + n - k, faultvfs_suffix) == 0;
}

static int fv_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (fv_matches((faultvfs_file_t *)f))
        return SQLITE_FULL;
    return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}

static int fv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int fv_sync(sqlite3_file *f, int flags)
{
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int fv_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int fv_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int fv_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int fv_check_lock(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int fv_control(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int fv_sector(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int fv_device(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int fv_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}

static int fv_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void fv_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int fv_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int fv_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, amt, pp);
}

static int fv_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods faultvfs_methods = {
    3,           fv_close,       fv_read,       fv_write,   fv_truncate, fv_sync,   fv_size,
    fv_lock,     fv_unlock,      fv_check_lock, fv_control, fv_sector,   fv_device, fv_shm_map,
    fv_shm_lock, fv_shm_barrier, fv_shm_unmap,  fv_fetch,   fv_unfetch,
};

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    (void)vfs;
    faultvfs_file_t *f = (faultvfs_file_t *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    f->name = name;
    int rc = faultvfs_real->xOpen(faultvfs_real, name, f->real, flags, out_flags);
    /* SQLite calls xClose only when pMethods is set. */
    f->base.pMethods = f->real->pMethods ? &faultvfs_methods : NULL;
    return rc;
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return faultvfs_real->xDelete(faultvfs_real, name, sync_dir);
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return faultvfs_real->xAccess(faultvfs_real, name, flags, out);
}

static int fv_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return faultvfs_real->xFullPathname(faultvfs_real, name, n, out);
}

static int fv_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return faultvfs_real->xRandomness(faultvfs_real, n, out);
}

static int fv_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return faultvfs_real->xSleep(faultvfs_real, us);
}

static int fv_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return faultvfs_real->xCurrentTime(faultvfs_real, out);
}

static int fv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return faultvfs_real->xGetLastError(faultvfs_real, n, out);
}

static int fv_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return faultvfs_real->xCurrentTimeInt64(faultvfs_real, out);
}

int faultvfs_install(void)
{
    if (faultvfs_real)
        return 0;
    faultvfs_real = sqlite3_vfs_find(NULL);
    if (!faultvfs_real)
        return -1;
    faultvfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(faultvfs_file_t) + faultvfs_real->szOsFile,
        .mxPathname = faultvfs_real->mxPathname,
        .zName = "faultvfs",
        .xOpen = fv_open,
        .xDelete = fv_delete,
        .xAccess = fv_access,
        .xFullPathname = fv_full_path,
        .xRandomness = fv_random,
        .xSleep = fv_sleep,
        .xCurrentTime = fv_time,
        .xGetLastError = fv_last_error,
        .xCurrentTimeInt64 = fv_time64,
    };
    return sqlite3_vfs_register(&faultvfs, 1) == SQLITE_OK ? 0 : -1;
}

void faultvfs_fail_writes(const char *suffix)
{
    faultvfs_suffix = suffix;
}

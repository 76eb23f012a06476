/*
 * walckpt.h — WAL checkpoints run on a thread and a connection of their
 * own, while one writer goes on committing.
 *
 * In WAL mode SQLite's autocheckpoint runs in the thread that commits: the
 * commit that leaves the WAL past its limit copies every frame back into
 * the database file and syncs both files before it returns. A first check
 * commits gigabytes of kept views (matcache.h) and only then starts its
 * items, which waited the ~7 s that copy took at a million certificates.
 * Here the commit only signals; a checkpointer thread, on a connection of
 * its own to the same file, runs a PASSIVE checkpoint, which copies the
 * committed frames while the items read them and the writer appends new
 * ones, and syncs as the writer's checkpoint would have (synchronous=
 * NORMAL). Nothing about durability changes: a commit is durable in the
 * WAL, as before, and a checkpoint that fails or is cut short leaves its
 * frames for the next one, or for the last connection's checkpoint at
 * close.
 */
#ifndef CA_WALCKPT_H
#define CA_WALCKPT_H

#include <sqlite3.h>

struct walckpt;

/* Starts checkpointing db's main database in the background whenever a
 * commit on db leaves `pages` frames or more in the WAL, in place of db's
 * autocheckpoint. NULL when db is not in WAL mode, has no file, or the
 * thread or its connection cannot be had: db then keeps checkpointing on
 * its own, as before. */
struct walckpt *walckpt_start(sqlite3 *db, int pages);

/* Waits for a checkpoint under way, stops the thread, closes its
 * connection and gives db an autocheckpoint of autopages frames back. Says
 * (-v) how many checkpoints ran and for how long. NULL w does nothing. */
void walckpt_stop(struct walckpt *w, sqlite3 *db, int autopages);

/* Whether db's main database is in WAL mode, where other connections read
 * the last commit while db writes. */
int walckpt_in_wal(sqlite3 *db);

/* Checkpoints run so far by w's thread that returned SQLITE_OK. */
unsigned walckpt_runs(struct walckpt *w);

#endif

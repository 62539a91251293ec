/**
 * One open store per directory, across processes and within one.
 *
 * Node has no flock/fcntl API, so the lock is a small SQLite file that
 * node:sqlite holds in exclusive locking mode: SQLite takes a POSIX record
 * lock, which the kernel drops when the process dies (SIGKILL included), so
 * a crash never leaves a stale lock behind, unlike a PID file. SQLite also
 * tracks its locks per inode inside the process, so a second open in the
 * same process is refused too.
 */
import { DatabaseSync } from 'node:sqlite';
import { StorageIoError } from '@tessera/storage';
import { StoreLockedError } from './errors.ts';

/** File name of the lock inside the store directory. */
export const LOCK_FILE_NAME = 'LOCK.sqlite';

const SQLITE_BUSY = 5;

/** A held directory lock. */
export interface DirLock {
  release(): void;
}

/** Takes the lock on `dir` (which must exist) or throws `StoreLockedError` at once (no waiting). */
export function lockDir(dir: string): DirLock {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(`${dir}/${LOCK_FILE_NAME}`, { timeout: 0 });
  } catch (error) {
    throw new StorageIoError(`cannot open lock file in ${dir}`, { cause: error });
  }
  try {
    db.exec('PRAGMA locking_mode=EXCLUSIVE');
    // The first write transaction takes the exclusive lock; locking_mode keeps it until close.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if ((error as { errcode?: number }).errcode === SQLITE_BUSY)
      throw new StoreLockedError(dir, { cause: error });
    throw new StorageIoError(`cannot lock ${dir}`, { cause: error });
  }
  return { release: () => db.close() };
}

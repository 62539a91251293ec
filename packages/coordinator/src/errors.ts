/** Errors the coordinator throws to its callers. */
import { TesseraError } from '@tessera/core';

/** Thrown when a coordinator method that needs a running coordinator is called before `start` or after `stop`. */
export class CoordinatorNotRunningError extends TesseraError {
  constructor(message = 'coordinator is not running') {
    super(message, 'ERR_COORDINATOR_NOT_RUNNING');
  }
}

/** Thrown when no job has the given id. */
export class JobNotFoundError extends TesseraError {
  readonly id: string;
  constructor(id: string) {
    super(`no job ${id}`, 'ERR_JOB_NOT_FOUND');
    this.id = id;
  }
}

/** Thrown when updating a job that is already done, failed or cancelled. */
export class JobFinishedError extends TesseraError {
  readonly id: string;
  constructor(id: string, status: string) {
    super(`job ${id} is ${status} and cannot change`, 'ERR_JOB_FINISHED');
    this.id = id;
  }
}

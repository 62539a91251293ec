/** Errors the dashboard throws on purpose. */
import { TesseraError } from '@tessera/core';

/** Thrown when the URL or `/peers.json` does not say which cluster and peers to join. */
export class DashboardConfigError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_DASHBOARD_CONFIG');
  }
}

/** Thrown when a key-browser field (value, key) cannot be read as what its format says. */
export class DashboardInputError extends TesseraError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`, 'ERR_DASHBOARD_INPUT');
    this.field = field;
  }
}

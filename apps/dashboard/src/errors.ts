/** Errors the dashboard throws on purpose. */
import { TesseraError } from '@tessera/core';

/** Thrown when the URL or `/peers.json` does not say which cluster and peers to join. */
export class DashboardConfigError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_DASHBOARD_CONFIG');
  }
}

// How long and how often the SDK tries to get a lost connection back, as the IVS SDK does:
// about 30 s of retries, then FAILED. Pure (time is passed in), unit-tested.

/** How long a lost connection is retried before the stage reports FAILED. */
export const RETRY_WINDOW_MS = 30_000;
/** How long a media connection may stay 'disconnected' before ICE is restarted. */
export const ICE_RESTART_AFTER_MS = 2_000;
/** How long an ICE restart may take before the session is replaced by a new one. */
export const ICE_RESTART_TIMEOUT_MS = 5_000;

/** The delay before attempt `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s, then every 4 s. */
export function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt), 4_000);
}

/** Whether to try again: `lostAt` is when the connection was lost, `now` is now (ms). */
export function shouldRetry(lostAt: number, now: number, window: number = RETRY_WINDOW_MS): boolean {
  return now - lostAt < window;
}

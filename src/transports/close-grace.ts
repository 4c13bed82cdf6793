/** Closing a client with a grace period: what every connector with a standing connection does on close. */

/** How long a closing client may take before the connector gives up waiting (or destroys it). */
export const CLOSE_GRACE_MS = 2_000;

/**
 * Waits for a client's close, at most `graceMs`; true when it finished (or failed) in time. A
 * failing close counts as finished: the connector is going away either way.
 */
export async function closedWithinGrace(
  closing: Promise<unknown>,
  graceMs = CLOSE_GRACE_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, graceMs, false);
  });
  const closed = closing.then(
    () => true as const,
    () => true as const,
  );
  const outcome = await Promise.race([closed, grace]);
  clearTimeout(timer);
  return outcome;
}

/**
 * Which requests were answered with a stale backend answer (stale-while-revalidate, stale-if-error),
 * so that the answer says so: a `chorus-stale` header naming the services. The HTTP cache marks the
 * request by its AbortSignal — the one object a backend call and the server's request share without
 * the engine carrying anything — and the server reads the mark when it writes the reply. A WeakMap:
 * a mark goes with its request.
 */
const marks = new WeakMap<AbortSignal, string[]>();

/** Marks the request of this signal as answered from a stale entry of the service. */
export function markStale(signal: AbortSignal, service: string): void {
  const services = marks.get(signal);
  if (services === undefined) marks.set(signal, [service]);
  else if (!services.includes(service)) services.push(service);
}

/** The services whose stale answers the request of this signal used, or undefined. */
export function staleServices(signal: AbortSignal): readonly string[] | undefined {
  return marks.get(signal);
}

/** The response header that says an answer holds stale backend data. */
export const STALE_HEADER = 'chorus-stale';

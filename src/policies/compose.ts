/** The one way policies are stacked, inbound and upstream alike. */

/** Composes policies so the first listed is the outermost: compose([a, b], h) = a(b(h)). */
export function composePolicies<Handler>(
  policies: readonly ((next: Handler) => Handler)[],
  terminal: Handler,
): Handler {
  let handler = terminal;
  for (let i = policies.length - 1; i >= 0; i--) handler = policies[i]!(handler);
  return handler;
}

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

/** Policy modules in stack order: lower `order` is outer; the list's order breaks ties. */
export function inOrder<Module extends { readonly order: number }>(modules: readonly Module[]): Module[] {
  return [...modules].sort((a, b) => a.order - b.order);
}

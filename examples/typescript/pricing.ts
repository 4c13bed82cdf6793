/** Pricing logic used by a code step of gateway.config.ts. */

interface Scope {
  request: { query: { amount: number } };
  steps: { rate: number };
}

/** The amount with VAT, rounded to cents. Reads the rate step's output, so it runs after it. */
export function grossAmount(scope: Scope): number {
  return Math.round(scope.request.query.amount * (1 + scope.steps.rate) * 100) / 100;
}

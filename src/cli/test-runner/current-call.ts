/** Which declared answer the transports' stand-ins give: set around every connector call of a plan under test. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DeclaredAnswer } from './test-file.ts';

/** The call a stand-in is answering. */
export interface CurrentCall {
  readonly service: string;
  readonly kind: string;
  readonly operation: string;
  /** undefined: no declared answer matched; the call fails as a refused connection. */
  readonly answer: DeclaredAnswer | undefined;
}

/** Set around every connector call of a plan under test. */
export const currentCall = new AsyncLocalStorage<CurrentCall>();

/** How a module reports a config problem: a key path in the config file and a message. */

/** A key path inside the config, e.g. ['endpoints', 0, 'flow', 1, 'call']. */
export type ConfigPath = readonly (string | number)[];

/** Reports a config problem at a place in the config file (`key`: the key itself; `offset`: a character in a string value). */
export type IssueReporter = (
  at: ConfigPath,
  message: string,
  options?: { key?: boolean; offset?: number },
) => void;

/**
 * Reloading a running gateway's config: on SIGHUP, on POST /admin/reload, and (with --watch) when
 * the config file changes. Reloads run one at a time; a request for one while another runs is
 * folded into one more run after it, so the last change on disk is always the one served. Only a
 * config without problems is swapped in; in-flight requests finish on the plan they started on.
 */
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ReloadOutcome } from '../server/routes.ts';
import type { Gateway } from '../server/server.ts';

/** Reloads one config file into one gateway. */
export interface Reloader {
  /** Loads and compiles the file again; swaps it in when it has no problems. */
  reload(reason: string): Promise<ReloadOutcome>;
  /** Reloads when the file changes (an editor's save, a ConfigMap's symlink swap); returns the stop. */
  watch(): () => void;
}

/** How long a burst of file events must be quiet before the reload (an editor writes in steps). */
const SETTLE_MS = 150;

/** A reloader of `file` into the gateway `current()` returns (undefined until it listens). */
export function createReloader(file: string, logger: Logger, current: () => Gateway | undefined): Reloader {
  let running: Promise<ReloadOutcome> | undefined;
  let queued: Promise<ReloadOutcome> | undefined;
  const reload = (reason: string): Promise<ReloadOutcome> => {
    if (queued) return queued;
    if (!running) {
      running = reloadOnce(file, logger, current, reason).finally(() => {
        running = undefined;
      });
      return running;
    }
    queued = running.then(() => {
      queued = undefined;
      return reload(reason);
    });
    return queued;
  };
  return { reload, watch: () => watchFile(file, logger, () => void reload('file changed')) };
}

async function reloadOnce(
  file: string,
  logger: Logger,
  current: () => Gateway | undefined,
  reason: string,
): Promise<ReloadOutcome> {
  const [{ loadConfig }, { compilePlan }] = await Promise.all([
    import('../modules.ts'),
    import('../gateway.ts'),
  ]);
  const reloaded = await loadConfig(file);
  const recompiled = reloaded.ok ? await compilePlan(reloaded.loaded, logger) : reloaded;
  if (!recompiled.ok) {
    const { formatIssue, sortIssues } = await import('../config/issues.ts');
    const problems = sortIssues(recompiled.issues).map(formatIssue);
    logger.error({ reason, problems }, 'reload failed; still serving the previous config');
    return { ok: false, problems };
  }
  const gateway = current();
  if (gateway === undefined) {
    await recompiled.plan.close();
    return { ok: false, problems: ['the gateway is not listening yet'] };
  }
  gateway.reload(recompiled.plan);
  logger.info({ reason, endpoints: recompiled.plan.endpoints.length }, 'config reloaded');
  return { ok: true, endpoints: recompiled.plan.endpoints.length };
}

/**
 * Watches the config file's directory, not the file: editors save by writing a new file and
 * renaming it over the old one, and a Kubernetes ConfigMap volume swaps a `..data` symlink, both
 * of which a watch on the file itself stops seeing after the first time.
 */
function watchFile(file: string, logger: Logger, changed: () => void): () => void {
  const absolute = path.resolve(file);
  const directory = path.dirname(absolute);
  const name = path.basename(absolute);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher;
  try {
    watcher = watch(directory, { persistent: false }, (_event, changedName) => {
      if (changedName !== null && changedName !== name && !changedName.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(changed, SETTLE_MS);
    });
  } catch (error) {
    logger.error(
      { err: error, directory },
      'cannot watch the config directory; reload with SIGHUP or POST /admin/reload',
    );
    return () => {};
  }
  watcher.on('error', (error) => logger.error({ err: error, directory }, 'watching the config stopped'));
  logger.info({ file: absolute }, 'watching the config for changes');
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

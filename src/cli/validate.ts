/**
 * `chorus validate`: every problem of a config in one pass. Schema problems come first; the config
 * repaired around them (src/config/repair.ts) is then compiled, so a missing WSDL, a cycle or a
 * bad expression shows up in the same run. Text for people, JSON for CI and editors.
 */
import type { ConfigIssue } from '../config/issues.ts';

/** Options of `chorus validate`. */
export interface ValidateOptions {
  format?: string | boolean | undefined;
  /** Reads of fields whose type is unknown (dyn) are warnings, and warnings fail the run. */
  strict: boolean;
}

/** Validates `file`; resolves to the exit code. */
export async function validateCommand(file: string, options: ValidateOptions): Promise<number> {
  const format = options.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    process.stderr.write(`chorus validate: --format must be text or json, got "${String(format)}"\n`);
    return 1;
  }
  const [{ loadConfig }, { compilePlan }, { pino }, { sortIssues }, { dynReadsOf }] = await Promise.all([
    import('../modules.ts'),
    import('../gateway.ts'),
    import('pino'),
    import('../config/issues.ts'),
    import('../types/flow-types.ts'),
  ]);
  const loaded = await loadConfig(file);
  const issues: ConfigIssue[] = loaded.ok ? [] : [...loaded.issues];
  const target = loaded.ok ? loaded.loaded : loaded.partial?.loaded;
  const removed = loaded.ok ? new Set<string>() : (loaded.partial?.removedServices ?? new Set<string>());
  let summary: string | undefined;
  const warnings: ConfigIssue[] = [];
  if (target) {
    const compiled = await compilePlan(target, pino({ level: 'silent' }));
    if (compiled.ok) {
      const { config } = compiled.plan;
      const steps = config.endpoints.reduce((sum, endpoint) => sum + endpoint.flow.length, 0);
      summary = `${Object.keys(config.services).length} services, ${config.endpoints.length} endpoints, ${steps} steps`;
      await compiled.plan.close();
    } else {
      // Problems about a service the repair removed are echoes of its schema problem.
      const echoes = [...removed].map((name) => `"${name}"`);
      issues.push(
        ...compiled.issues.filter(
          (issue) => !echoes.some((name) => issue.message.includes(`unknown service ${name}`)),
        ),
      );
    }
    if (options.strict) {
      const seen = new Set<string>();
      for (const read of dynReadsOf(target.config)) {
        const key = `${JSON.stringify(read.at)}:${read.offset}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const position = target.locate(read.at, { offset: read.offset });
        const message = `${read.path}: its type is unknown (dyn), so this read is not checked (an operation without an output schema, a code step, an untyped input)`;
        warnings.push(
          position ? { file, path: read.at, message, position } : { file, path: read.at, message },
        );
      }
    }
  }
  sortIssues(issues);
  sortIssues(warnings);
  const failed = issues.length > 0 || (options.strict && warnings.length > 0);
  if (format === 'json') {
    const entry = (issue: ConfigIssue, severity: 'error' | 'warning') => ({
      file: issue.file,
      line: issue.position?.line ?? null,
      col: issue.position?.col ?? null,
      path: issue.path,
      message: issue.message,
      severity,
    });
    const problems = [
      ...issues.map((issue) => entry(issue, 'error')),
      ...warnings.map((issue) => entry(issue, 'warning')),
    ];
    process.stdout.write(`${JSON.stringify({ file, valid: !failed, problems }, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  const { formatIssue } = await import('../config/issues.ts');
  for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`);
  for (const issue of warnings)
    process.stderr.write(`${formatIssue({ ...issue, message: `warning: ${issue.message}` })}\n`);
  if (issues.length > 0 || warnings.length > 0) {
    const counts = [
      issues.length > 0 ? `${issues.length} problem${issues.length === 1 ? '' : 's'}` : '',
      warnings.length > 0 ? `${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : '',
    ].filter(Boolean);
    process.stderr.write(`${counts.join(', ')} found\n`);
  }
  if (!failed && summary !== undefined) process.stdout.write(`${file}: valid — ${summary}\n`);
  return failed ? 1 : 0;
}

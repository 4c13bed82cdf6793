/**
 * The API description: Markdown from `portal.description` or from the file `portal.descriptionFile`
 * (read once at load, so a missing file is a load error at its config line, not a broken page), shown
 * on the portal's home page and as info.description of the OpenAPI document.
 *
 * Rendered with markdown-it (a well-kept CommonMark renderer) with raw HTML off: any HTML in the
 * Markdown is escaped and shown as text, and markdown-it refuses javascript:/vbscript:/file: and
 * non-image data: links. So a description can never put markup or script into the page.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import type { IssueReporter } from '../contracts/issues.ts';
import type { PortalConfig } from './schema.ts';

/** The most of a description file that is read (a description, not a book). */
const MAX_DESCRIPTION_BYTES = 256 * 1024;

/**
 * Reads `portal.descriptionFile` (relative to the config file) into `portal.description`, once at load.
 * A file that cannot be read, or is too large, is an issue at the key.
 */
export async function readPortalDescription(
  portal: PortalConfig,
  baseDir: string,
  issue: IssueReporter,
): Promise<void> {
  const file = portal.descriptionFile;
  if (file === undefined) return;
  const at = ['portal', 'descriptionFile'];
  let text: string;
  try {
    text = await readFile(path.resolve(baseDir, file), 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    issue(
      at,
      `cannot read the portal description file "${file}" (${reason}); the path is relative to the config file`,
    );
    return;
  }
  if (Buffer.byteLength(text) > MAX_DESCRIPTION_BYTES) {
    issue(at, `the portal description file "${file}" is over ${MAX_DESCRIPTION_BYTES / 1024} KB`);
    return;
  }
  // The resolved config carries the text from here on: the portal and the OpenAPI document read it there.
  portal.description = text;
}

const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false });
// Links in a description open the target as a plain navigation, never with the portal as opener.
const defaultLinkOpen =
  markdown.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]?.attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** The description as HTML: raw HTML escaped, unsafe links dropped. */
export function renderDescription(text: string): string {
  return markdown.render(text);
}

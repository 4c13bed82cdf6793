/** uk-archive — plain XML over HTTP: one programme, or programmes whose title contains a text. */
import { ARCHIVE, type ArchiveRecord } from './data.ts';
import { escapeXml, type Handler, sendXml, titleMatches } from './http.ts';

function programmeXml(p: ArchiveRecord): string {
  return (
    `<programme ref="${escapeXml(p.ref)}" medium="${p.medium}">` +
    `<title>${escapeXml(p.title)}</title>` +
    `<broadcast>${p.broadcast}</broadcast>` +
    `<duration unit="minutes">${p.durationMinutes}</duration>` +
    `<subject>${escapeXml(p.subject)}</subject>` +
    `<presenter>${escapeXml(p.presenter)}</presenter>` +
    `<abstract>${escapeXml(p.abstract)}</abstract>` +
    '</programme>'
  );
}

export const ukArchiveHandler: Handler = (req, url, res) => {
  if (req.method !== 'GET') return sendXml(res, 405, '<error>method not allowed</error>');
  const one = /^\/archive\/programmes\/([\w-]+)$/.exec(url.pathname);
  if (one) {
    const found = ARCHIVE.find((p) => p.ref === one[1]);
    if (!found) return sendXml(res, 404, '<error>no such programme</error>');
    return sendXml(res, 200, programmeXml(found));
  }
  if (url.pathname === '/archive/search') {
    const text = url.searchParams.get('title') ?? '';
    const max = Math.min(Number(url.searchParams.get('max') ?? 25) || 25, 100);
    const hits = ARCHIVE.filter((p) => titleMatches(p.title, text));
    return sendXml(
      res,
      200,
      `<results count="${hits.length}">${hits.slice(0, max).map(programmeXml).join('')}</results>`,
    );
  }
  sendXml(res, 404, '<error>not found</error>');
};

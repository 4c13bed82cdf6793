/**
 * ratings — the rating of any catalog item, and reviews that change it. Reached by request/reply
 * over NATS when a NATS server is reachable (subjects `<prefix>.<id>.get`, `<prefix>.<id>.review`
 * and `<prefix>.many`), and over HTTP otherwise (GET /ratings/{id}, POST /ratings/{id}/reviews,
 * POST /ratings/batch).
 * Both transports share one store, so either sees the other's reviews.
 */
import { connect, type Msg, type NatsConnection, headers as natsHeaders } from 'nats';
import { LOCATIONS, type Rating, ratingOf } from './data.ts';
import { type Handler, readText, sendJson } from './http.ts';

/** A review as the ratings service takes it. */
export interface Review {
  score: number;
  author?: string;
  text?: string;
}

type Outcome = { status: 200 | 201; body: unknown } | { status: 400 | 404; body: { error: string } };

/** The ratings of every item, seeded, changed by reviews. */
export class RatingStore {
  readonly #ratings = new Map<string, { total: number; votes: number }>();
  readonly #reviews = new Map<string, (Review & { at: string })[]>();

  get(id: string): Outcome {
    if (!LOCATIONS[id]) return { status: 404, body: { error: `no item ${id}` } };
    return { status: 200, body: this.#rating(id) };
  }

  review(id: string, input: unknown): Outcome {
    if (!LOCATIONS[id]) return { status: 404, body: { error: `no item ${id}` } };
    const review = input as Partial<Review> | null;
    if (
      typeof review?.score !== 'number' ||
      !Number.isInteger(review.score) ||
      review.score < 1 ||
      review.score > 10
    ) {
      return { status: 400, body: { error: 'score must be an integer from 1 to 10' } };
    }
    const current = this.#ratings.get(id) ?? seed(id);
    this.#ratings.set(id, { total: current.total + review.score, votes: current.votes + 1 });
    const stored = {
      score: review.score,
      author: String(review.author ?? 'anonymous').slice(0, 100),
      text: String(review.text ?? '').slice(0, 2000),
      at: new Date().toISOString(),
    };
    const list = this.#reviews.get(id) ?? [];
    list.push(stored);
    this.#reviews.set(id, list);
    return { status: 201, body: { review: stored, rating: this.#rating(id) } };
  }

  /** The ratings of many items, in one answer; unknown ids are left out (the caller matches by id). */
  many(input: unknown): Outcome {
    const ids = (input as { ids?: unknown } | null)?.ids;
    if (!Array.isArray(ids) || ids.length > 100 || !ids.every((id) => typeof id === 'string')) {
      return { status: 400, body: { error: 'ids must be a list of at most 100 item ids' } };
    }
    const known = [...new Set(ids as string[])].filter((id) => LOCATIONS[id] !== undefined);
    return { status: 200, body: { ratings: known.map((id) => this.#rating(id)) } };
  }

  #rating(id: string): Rating {
    const { total, votes } = this.#ratings.get(id) ?? seed(id);
    return { id, score: Math.round((total / votes) * 10) / 10, votes };
  }
}

function seed(id: string): { total: number; votes: number } {
  const { score, votes } = ratingOf(id);
  return { total: score * votes, votes };
}

/** The HTTP responder. */
export function ratingsHttpHandler(store: RatingStore): Handler {
  return async (req, url, res) => {
    if (url.pathname === '/ratings/batch' && req.method === 'POST') {
      let body: unknown;
      try {
        body = JSON.parse(await readText(req));
      } catch {
        return sendJson(res, 400, { error: 'the body is not JSON' });
      }
      const outcome = store.many(body);
      return sendJson(res, outcome.status, outcome.body);
    }
    const match = /^\/ratings\/(mc-\d{4})(\/reviews)?$/.exec(url.pathname);
    if (!match) return sendJson(res, 404, { error: 'not found' });
    if (req.method === 'GET' && !match[2]) {
      const outcome = store.get(match[1]!);
      return sendJson(res, outcome.status, outcome.body);
    }
    if (req.method === 'POST' && match[2]) {
      let body: unknown;
      try {
        body = JSON.parse(await readText(req));
      } catch {
        return sendJson(res, 400, { error: 'the body is not JSON' });
      }
      const outcome = store.review(match[1]!, body);
      return sendJson(res, outcome.status, outcome.body);
    }
    sendJson(res, 405, { error: 'method not allowed' });
  };
}

/** A running NATS responder. */
export interface NatsResponder {
  close(): Promise<void>;
}

/**
 * Answers `<prefix>.<id>.get` and `<prefix>.<id>.review` on a NATS server. Errors are answered
 * the way NATS micro services do: a `Nats-Service-Error-Code` header and the error as JSON.
 */
export async function startNatsResponder(
  servers: string,
  prefix: string,
  store: RatingStore,
): Promise<NatsResponder> {
  const nc: NatsConnection = await connect({ servers, name: 'mediaco-ratings', timeout: 2_000 });
  const reply = (msg: Msg, outcome: Outcome): void => {
    const data = new TextEncoder().encode(JSON.stringify(outcome.body));
    if (outcome.status >= 400) {
      const h = natsHeaders();
      h.set('Nats-Service-Error-Code', String(outcome.status));
      h.set('Nats-Service-Error', (outcome.body as { error: string }).error);
      msg.respond(data, { headers: h });
    } else msg.respond(data);
  };
  nc.subscribe(`${prefix}.*.get`, {
    callback: (error, msg) => {
      if (error) return;
      reply(msg, store.get(msg.subject.split('.').at(-2)!));
    },
  });
  nc.subscribe(`${prefix}.*.review`, {
    callback: (error, msg) => {
      if (error) return;
      let body: unknown;
      try {
        body = msg.data.length === 0 ? null : JSON.parse(new TextDecoder().decode(msg.data));
      } catch {
        return reply(msg, { status: 400, body: { error: 'the payload is not JSON' } });
      }
      reply(msg, store.review(msg.subject.split('.').at(-2)!, body));
    },
  });
  nc.subscribe(`${prefix}.many`, {
    callback: (error, msg) => {
      if (error) return;
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(msg.data));
      } catch {
        return reply(msg, { status: 400, body: { error: 'the payload is not JSON' } });
      }
      reply(msg, store.many(body));
    },
  });
  await nc.flush();
  return { close: () => nc.drain() };
}

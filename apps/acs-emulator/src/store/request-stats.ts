/** How a `POST /emails:send` ended. */
export type SendOutcome =
  | 'accepted'
  | 'replayed'
  /** A matching repeat of a finished repeatable request, answered with the original's answer. */
  | 'repeatReplayed'
  /** 409: a matching repeat while the original is still in progress. */
  | 'repeatInProgress'
  /** 412: Repeatability-First-Sent outside the tracked window. */
  | 'repeatOutsideWindow'
  | 'badRequest'
  | 'unauthorized'
  | 'payloadTooLarge'
  | 'throttled'
  | 'rateLimited'
  | 'serverError'
  | 'dropped';

/** How a `GET /emails/operations/{id}` ended. */
export type PollOutcome = 'ok' | 'badRequest' | 'unauthorized' | 'notFound';

export interface RequestCounts {
  readonly send: {
    readonly total: number;
    /** 202 answers, new operations and replays together. */
    readonly '202': number;
    readonly '400': number;
    readonly '401': number;
    readonly '413': number;
    /** Scripted 429s and rate-limit 429s together. */
    readonly '429': number;
    readonly '5xx': number;
    readonly dropped: number;
    /** Repeatable requests refused: 409 (original still in progress) and 412 (first-sent outside the window). */
    readonly '409': number;
    readonly '412': number;
    /** Matching repeats answered with the original request's answer (Repeatable Requests). */
    readonly repeatReplayed: number;
    /** 202s that returned an existing operation (repeated `Operation-Id`). */
    readonly replayed: number;
    /** 429s caused by the sustained rate limit (the rest were scripted). */
    readonly rateLimited: number;
  };
  readonly poll: {
    readonly total: number;
    readonly '200': number;
    readonly '400': number;
    readonly '401': number;
    readonly '404': number;
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** Counters of data-plane requests by outcome. */
export class RequestStats {
  private counts: Mutable<RequestCounts> = empty();

  recordSend(outcome: SendOutcome): void {
    const send = this.counts.send;
    send.total += 1;
    switch (outcome) {
      case 'accepted':
        send['202'] += 1;
        break;
      case 'replayed':
        send['202'] += 1;
        send.replayed += 1;
        break;
      case 'badRequest':
        send['400'] += 1;
        break;
      case 'repeatReplayed':
        send.repeatReplayed += 1;
        break;
      case 'repeatInProgress':
        send['409'] += 1;
        break;
      case 'repeatOutsideWindow':
        send['412'] += 1;
        break;
      case 'unauthorized':
        send['401'] += 1;
        break;
      case 'payloadTooLarge':
        send['413'] += 1;
        break;
      case 'throttled':
        send['429'] += 1;
        break;
      case 'rateLimited':
        send['429'] += 1;
        send.rateLimited += 1;
        break;
      case 'serverError':
        send['5xx'] += 1;
        break;
      case 'dropped':
        send.dropped += 1;
        break;
    }
  }

  recordPoll(outcome: PollOutcome): void {
    const poll = this.counts.poll;
    poll.total += 1;
    switch (outcome) {
      case 'ok':
        poll['200'] += 1;
        break;
      case 'badRequest':
        poll['400'] += 1;
        break;
      case 'unauthorized':
        poll['401'] += 1;
        break;
      case 'notFound':
        poll['404'] += 1;
        break;
    }
  }

  snapshot(): RequestCounts {
    return { send: { ...this.counts.send }, poll: { ...this.counts.poll } };
  }

  clear(): void {
    this.counts = empty();
  }
}

function empty(): Mutable<RequestCounts> {
  return {
    send: {
      total: 0,
      '202': 0,
      '400': 0,
      '401': 0,
      '413': 0,
      '429': 0,
      '5xx': 0,
      dropped: 0,
      '409': 0,
      '412': 0,
      repeatReplayed: 0,
      replayed: 0,
      rateLimited: 0,
    },
    poll: { total: 0, '200': 0, '400': 0, '401': 0, '404': 0 },
  };
}

/*
 * The operator console's script (served as /console/console.js by orders' management listener). No framework and
 * no bundler: the DOM is built with textContent only (never innerHTML, so no string from the server can become
 * markup), every data call is a fetch with the operator's bearer token from sessionStorage (no cookies, so no
 * CSRF surface), and the live progress is the SSE stream read with fetch (EventSource cannot send a header).
 */

const API = '/notifications/api/v1/internal';
const TOKEN_KEY = 'notifications.operatorToken';
const PIPELINE_REFRESH_MS = 5_000;
const PROGRESS_RETRY_MS = 1_000;

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** An element with attributes (`on<event>` = listener) and children; text is always text, never markup. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function table(
  headers: readonly string[],
  rows: readonly Child[][],
  attributes: Attributes = {},
): HTMLElement {
  const numeric = (header: string): boolean => header.startsWith('#');
  return h(
    'table',
    attributes,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...headers.map((header) =>
          h('th', { class: numeric(header) ? 'num' : '' }, header.replace(/^#/, '')),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...rows.map((cells) =>
        h(
          'tr',
          {},
          ...cells.map((cell, index) => h('td', { class: numeric(headers[index] ?? '') ? 'num' : '' }, cell)),
        ),
      ),
    ),
  );
}

const badge = (status: string): HTMLElement =>
  h('span', { class: `badge ${status.split('_')[0] ?? ''}` }, status);
const time = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
const main = (): HTMLElement => document.getElementById('main') as HTMLElement;

function show(...children: Child[]): void {
  main().replaceChildren(
    ...children
      .filter((child): child is Node | string => child !== null && child !== undefined && child !== false)
      .map((child) => (child instanceof Node ? child : String(child))),
  );
}

function message(text: string, kind: 'info' | 'error' = 'info', id?: string): HTMLElement {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', id }, text);
}

// --- the API ---------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token() ?? ''}`);
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  const response = await fetch(`${API}${path}`, { ...init, headers, cache: 'no-store' });
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(TOKEN_KEY);
    renderLogin(
      response.status === 401
        ? 'The token was refused (invalid or expired).'
        : 'The token lacks the operator scope.',
    );
    throw new ApiError(response.status, 'not authorised');
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { detail?: unknown; message?: unknown };
      const text = body.detail ?? body.message;
      if (typeof text === 'string') detail = `${response.status}: ${text}`;
    } catch {
      // Not a problem-details body: the status line says enough.
    }
    throw new ApiError(response.status, detail);
  }
  return response;
}

async function getJson<T>(path: string): Promise<T> {
  return (await api(path)).json() as Promise<T>;
}

async function send<T>(method: 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await api(path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  return response.json() as Promise<T>;
}

// --- shapes the routes answer ------------------------------------------------------------------------------------

interface OrderSummary {
  id: string;
  creator: string;
  sendersReference?: string;
  created: string;
  recipientCount?: number;
  processingStatus: string;
  statusChanged: string;
  subject?: string;
  lastError?: string;
  generated?: number;
  succeeded?: number;
  halted?: { at: string; sent: number; withheld: number; inFlight?: number };
}

interface Progress {
  orderId: string;
  orderStatus: string;
  total: number;
  final: number;
  counts: Record<string, number>;
  ratePerSecond: number;
  etaSeconds: number | null;
  rateLimitPausedUntil: string | null;
  updatedAt: string;
}

interface NotificationsPage {
  notifications: {
    id: string;
    recipient: Record<string, string | undefined>;
    sendStatus: { status: string; lastUpdate: string };
  }[];
  page: number;
  hasNext: boolean;
}

interface ConsumerStatus {
  groupId: string;
  state: string;
  received: number;
  delivered: number;
  inProcess: number;
  retried: number;
  deadLettered: number;
  lost: number;
}

interface ServiceStatus {
  service: string;
  uptimeSeconds: number;
  consumers: ConsumerStatus[];
  recentErrors: { at: string; topic?: string; error?: string; message?: string; errorClass?: string }[];
}

type Probe<T> = { ok: true; value: T } | { ok: false; error: string };

interface PipelineView {
  checkedAt: string;
  apps: {
    app: string;
    url?: string;
    status: Probe<ServiceStatus>;
    rateLimit?: Probe<{ paused: boolean; pausedUntil: string | null; inFlight?: number }>;
  }[];
  lag: Probe<{ group: string; state: string; members: number; totalLag: number }[]>;
  rateLimit: { paused: boolean; pausedUntil: string | null; source: string | null };
  outbox: {
    unpublished: number;
    oldestUnpublishedAt: string | null;
    oldestAgeMs: number | null;
    topics: { topic: string; unpublished: number; failing: number }[];
  };
}

interface DeadLetterTopic {
  topic: string;
  exists: boolean;
  messages: number;
  oldest: string | null;
  newest: string | null;
}

interface DeadLetterMessage {
  partition: number;
  offset: number;
  timestamp: string;
  key: string | null;
  originTopic: string | null;
  reason: string | null;
  errorClass: string | null;
  error: string | null;
  attempts: number;
  deadLetteredAt: string | null;
  valuePreview: string | null;
  headers: Record<string, string>;
}

interface ReplayReport {
  counts: Record<string, number>;
  warnings: string[];
}

// --- routing -----------------------------------------------------------------------------------------------------

/** Aborted when the page changes: stops the progress stream and the pipeline refresh of the page left. */
let pageLife = new AbortController();

function route(): void {
  pageLife.abort();
  pageLife = new AbortController();
  if (token() === null) {
    renderLogin();
    return;
  }
  const [page = 'orders', ...rest] = decodeURIComponent(location.hash.slice(1)).split('/');
  const argument = rest.join('/');
  const nav = document.getElementById('nav') as HTMLElement;
  nav.hidden = false;
  for (const link of nav.querySelectorAll('a'))
    link.classList.toggle('active', link.dataset['page'] === page);
  const render = (): Promise<void> => {
    switch (page) {
      case 'pipeline':
        return renderPipeline(pageLife.signal);
      case 'dead-letters':
        return argument ? renderDeadLetterTopic(argument) : renderDeadLetters();
      default:
        return argument ? renderOrder(argument, pageLife.signal) : renderOrders();
    }
  };
  render().catch((error: unknown) => {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
    if (error instanceof DOMException && error.name === 'AbortError') return;
    main().append(message(error instanceof Error ? error.message : String(error), 'error'));
  });
}

function renderLogin(problem?: string): void {
  pageLife.abort();
  (document.getElementById('nav') as HTMLElement).hidden = true;
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'off',
    placeholder: 'eyJ…',
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'inline',
      id: 'login',
      onsubmit: (event: Event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        if (location.hash === '' || location.hash === '#') location.hash = '#orders';
        else route();
      },
    },
    h('label', {}, 'Operator token (scope altinn:notifications.operator)', input),
    h('button', { type: 'submit' }, 'Open console'),
  );
  show(
    h('h2', {}, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Paste an operator bearer token (`npm run -s token -- --operator` in development). It stays in this tab only (sessionStorage).',
    ),
    problem ? message(problem, 'error') : null,
    form,
  );
}

// --- orders ------------------------------------------------------------------------------------------------------

const search = { creator: '', sendersReference: '' };

async function renderOrders(): Promise<void> {
  const creator = h('input', {
    id: 'search-creator',
    name: 'creator',
    value: search.creator,
    placeholder: 'ttd',
  });
  const reference = h('input', {
    id: 'search-reference',
    name: 'sendersReference',
    value: search.sendersReference,
  });
  const results = h('div', { id: 'order-results' });
  const load = async (cursor?: string): Promise<void> => {
    search.creator = creator.value.trim();
    search.sendersReference = reference.value.trim();
    const query = new URLSearchParams({ pageSize: '25' });
    if (search.creator) query.set('creator', search.creator);
    if (search.sendersReference) query.set('sendersReference', search.sendersReference);
    if (cursor) query.set('cursor', cursor);
    const page = await getJson<{ orders: OrderSummary[]; next?: string }>(`/orders?${query.toString()}`);
    results.replaceChildren(
      page.orders.length === 0
        ? message('No orders match.')
        : table(
            ['Order', 'Creator', 'Senders reference', 'Status', '#Recipients', 'Created'],
            page.orders.map((order) => [
              h('a', { href: `#orders/${order.id}`, class: 'mono' }, order.id),
              order.creator,
              order.sendersReference ?? '—',
              badge(order.processingStatus),
              order.recipientCount ?? '',
              time(order.created),
            ]),
            { id: 'orders-table' },
          ),
      h(
        'div',
        { class: 'pager' },
        cursor ? h('button', { class: 'secondary', onclick: () => void load() }, 'Newest') : null,
        page.next
          ? h(
              'button',
              { class: 'secondary', id: 'orders-older', onclick: () => void load(page.next) },
              'Older',
            )
          : null,
      ),
    );
  };
  show(
    h('h2', {}, 'Orders'),
    h(
      'form',
      {
        class: 'inline',
        id: 'order-search',
        onsubmit: (event: Event) => (event.preventDefault(), void load().catch(showError)),
      },
      h('label', {}, 'Creator (org)', creator),
      h('label', {}, 'Senders reference', reference),
      h('button', { type: 'submit' }, 'Search'),
    ),
    results,
  );
  await load();
}

function showError(error: unknown): void {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
  main().append(message(error instanceof Error ? error.message : String(error), 'error'));
}

async function renderOrder(id: string, signal: AbortSignal): Promise<void> {
  const order = await getJson<OrderSummary>(`/orders/${encodeURIComponent(id)}`);
  const status = h('span', { id: 'order-status' }, badge(order.processingStatus));
  const facts = h('dl', {}, ...orderFacts(order, status));
  const bar = h('div');
  const figures = h('p', { id: 'progress-figures', class: 'muted' }, 'Waiting for progress…');
  const counts = h('div', { id: 'progress-counts' });
  const outcome = h('div', { id: 'order-action-result' });
  const notifications = h('div', { id: 'notifications' });
  const halt = h('button', { class: 'danger', id: 'halt', onclick: () => void act('halt') }, 'Halt');
  const cancel = h(
    'button',
    { class: 'secondary', id: 'cancel', onclick: () => void act('cancel') },
    'Cancel',
  );

  async function act(action: 'halt' | 'cancel'): Promise<void> {
    const question =
      action === 'halt'
        ? 'Halt this order? Notifications not yet sent are withheld (sends already in flight finish).'
        : 'Cancel this order? Only an order that is still Registered can be cancelled.';
    if (!confirm(question)) return;
    try {
      const result = await send<Record<string, unknown>>(
        'PUT',
        `/orders/${encodeURIComponent(id)}/${action}`,
      );
      outcome.replaceChildren(message(describeAction(action, result), 'info', 'action-message'));
      void refreshNotifications(1);
      void refreshOrder();
    } catch (error) {
      outcome.replaceChildren(
        message(error instanceof Error ? error.message : String(error), 'error', 'action-message'),
      );
    }
  }

  function update(snapshot: Progress): void {
    status.replaceChildren(badge(snapshot.orderStatus));
    const percent = snapshot.total === 0 ? 0 : Math.round((snapshot.final / snapshot.total) * 100);
    bar.style.width = `${percent}%`;
    const eta = snapshot.etaSeconds === null ? '' : ` · ETA ${Math.ceil(snapshot.etaSeconds)} s`;
    const paused = snapshot.rateLimitPausedUntil
      ? ` · rate-limit pause until ${time(snapshot.rateLimitPausedUntil)}`
      : '';
    figures.textContent = `${snapshot.final} of ${snapshot.total} final (${percent} %) · ${snapshot.ratePerSecond.toFixed(1)}/s${eta}${paused}`;
    figures.dataset['final'] = String(snapshot.final);
    figures.dataset['total'] = String(snapshot.total);
    counts.replaceChildren(
      table(
        ['Status', '#Notifications'],
        Object.entries(snapshot.counts).map(([name, count]) => [badge(name), count]),
        { id: 'counts-table' },
      ),
    );
    const done = isFinalOrder(snapshot.orderStatus);
    halt.disabled = done;
    cancel.disabled = snapshot.orderStatus !== 'Registered';
  }

  /** The facts again (a halt's final counts are known only once the order is final). */
  async function refreshOrder(): Promise<void> {
    const latest = await getJson<OrderSummary>(`/orders/${encodeURIComponent(id)}`);
    facts.replaceChildren(...orderFacts(latest, status));
  }

  async function refreshNotifications(page: number): Promise<void> {
    const result = await getJson<NotificationsPage>(
      `/orders/${encodeURIComponent(id)}/notifications?page=${page}&pageSize=20`,
    );
    notifications.replaceChildren(
      table(
        ['Notification', 'Recipient', 'Status', 'Last update'],
        result.notifications.map((notification) => [
          h('span', { class: 'mono' }, notification.id),
          Object.values(notification.recipient).filter(Boolean).join(' '),
          badge(notification.sendStatus.status),
          time(notification.sendStatus.lastUpdate),
        ]),
        { id: 'notifications-table' },
      ),
      h(
        'div',
        { class: 'pager' },
        h(
          'button',
          {
            class: 'secondary',
            disabled: page <= 1,
            onclick: () => void refreshNotifications(page - 1).catch(showError),
          },
          'Previous',
        ),
        h('span', { class: 'muted', id: 'notifications-page' }, `page ${page}`),
        h(
          'button',
          {
            class: 'secondary',
            disabled: !result.hasNext,
            onclick: () => void refreshNotifications(page + 1).catch(showError),
          },
          'Next',
        ),
        h(
          'button',
          { class: 'secondary', onclick: () => void refreshNotifications(page).catch(showError) },
          'Refresh',
        ),
      ),
    );
  }

  show(
    h('p', {}, h('a', { href: '#orders' }, '← Orders')),
    h('h2', {}, 'Order ', h('span', { class: 'mono' }, order.id)),
    facts,
    h('h3', {}, 'Progress (live)'),
    h('div', { class: 'bar' }, bar),
    figures,
    counts,
    h('div', { class: 'actions' }, halt, cancel),
    outcome,
    h('h3', {}, 'Notifications'),
    notifications,
  );
  await refreshNotifications(1);
  void followProgress(id, signal, update)
    .then(() => Promise.all([refreshNotifications(1), refreshOrder()]))
    .catch((error: unknown) => {
      if (!signal.aborted)
        figures.replaceChildren(
          message(`Progress unavailable: ${error instanceof Error ? error.message : String(error)}`, 'error'),
        );
    });
}

function orderFacts(order: OrderSummary, status: HTMLElement): HTMLElement[] {
  const halted = order.halted;
  return [
    h('dt', {}, 'Status'),
    h('dd', {}, status),
    h('dt', {}, 'Creator'),
    h('dd', {}, order.creator),
    h('dt', {}, 'Senders reference'),
    h('dd', {}, order.sendersReference ?? '—'),
    h('dt', {}, 'Subject'),
    h('dd', {}, order.subject ?? ''),
    h('dt', {}, 'Created'),
    h('dd', {}, time(order.created)),
    ...(halted
      ? [
          h('dt', {}, 'Halted'),
          h(
            'dd',
            { id: 'order-halted', class: 'warn' },
            `${time(halted.at)}: ${halted.sent} sent, ${halted.withheld} withheld`,
            halted.inFlight ? `, ${halted.inFlight} in flight` : '',
          ),
        ]
      : []),
    ...(order.lastError ? [h('dt', {}, 'Last error'), h('dd', { class: 'bad' }, order.lastError)] : []),
  ];
}

function isFinalOrder(status: string): boolean {
  return ['Completed', 'Cancelled', 'SendConditionNotMet'].includes(status);
}

function describeAction(action: 'halt' | 'cancel', result: Record<string, unknown>): string {
  const halted = result['halted'];
  if (action === 'halt' && typeof halted === 'object' && halted !== null) {
    const { sent, withheld, inFlight } = halted as { sent?: unknown; withheld?: unknown; inFlight?: unknown };
    const flying = typeof inFlight === 'number' && inFlight > 0 ? `, ${inFlight} in flight` : '';
    return `Halted: ${String(sent ?? 0)} sent, ${String(withheld ?? 0)} withheld${flying}.`;
  }
  const status = result['processingStatus'] ?? result['orderStatus'] ?? result['status'];
  return `${action === 'halt' ? 'Halt' : 'Cancel'} accepted${typeof status === 'string' ? `: ${status}` : ''}.`;
}

/**
 * Follows `GET …/progress` as Server-Sent Events until the order is final: fetch with the token (EventSource
 * cannot send one), the body read as text and split into events at blank lines; reconnects after a dropped
 * connection with `Last-Event-ID`, as EventSource would.
 */
async function followProgress(
  id: string,
  signal: AbortSignal,
  onSnapshot: (snapshot: Progress) => void,
): Promise<void> {
  let lastEventId: string | undefined;
  while (!signal.aborted) {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
    let final = false;
    try {
      const response = await api(`/orders/${encodeURIComponent(id)}/progress`, { headers, signal });
      if (!response.body) throw new Error('the progress stream has no body');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('id:')) lastEventId = line.slice(3).trim();
          }
          if (data.length === 0) continue;
          const snapshot = JSON.parse(data.join('\n')) as Progress;
          onSnapshot(snapshot);
          final = isFinalOrder(snapshot.orderStatus);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status !== 503) throw error;
    }
    if (final) return;
    await new Promise((resolve) => setTimeout(resolve, PROGRESS_RETRY_MS));
  }
}

// --- pipeline ----------------------------------------------------------------------------------------------------

async function renderPipeline(signal: AbortSignal): Promise<void> {
  const body = h('div', { id: 'pipeline' });
  show(h('h2', {}, 'Pipeline'), body);
  while (!signal.aborted) {
    const view = await getJson<PipelineView>('/pipeline');
    if (signal.aborted) return;
    body.replaceChildren(...pipelineView(view));
    await new Promise((resolve) => setTimeout(resolve, PIPELINE_REFRESH_MS));
  }
}

function pipelineView(view: PipelineView): Node[] {
  const pause = view.rateLimit;
  const outbox = view.outbox;
  const apps = view.apps.map((app) =>
    h(
      'div',
      { class: 'card', 'data-app': app.app },
      h(
        'h3',
        {},
        app.app,
        ' ',
        app.status.ok ? h('span', { class: 'good' }, '● up') : h('span', { class: 'bad' }, '● unreachable'),
      ),
      app.url ? h('p', { class: 'muted mono' }, app.url) : null,
      app.status.ok ? appStatus(app.status.value) : message(app.status.error, 'error'),
      app.rateLimit?.ok
        ? h(
            'p',
            {},
            'ACS pause in this replica: ',
            app.rateLimit.value.paused
              ? h('span', { class: 'warn' }, `until ${time(app.rateLimit.value.pausedUntil)}`)
              : 'none',
          )
        : null,
    ),
  );
  const lag = view.lag.ok
    ? table(
        ['Consumer group', 'State', '#Members', '#Lag'],
        view.lag.value.map((group) => [
          h('span', { class: 'mono' }, group.group),
          group.state,
          group.members,
          group.totalLag,
        ]),
        { id: 'lag-table' },
      )
    : message(view.lag.error, 'error');
  return [
    h(
      'p',
      { class: 'muted' },
      `Checked ${time(view.checkedAt)} · refreshes every ${PIPELINE_REFRESH_MS / 1000} s`,
    ),
    h(
      'div',
      { class: 'cards' },
      h(
        'div',
        { class: 'card', id: 'rate-limit' },
        h('h3', {}, 'Email rate-limit pause'),
        pause.paused
          ? h(
              'p',
              { class: 'warn' },
              `Paused until ${time(pause.pausedUntil)} (resets then; source ${pause.source ?? '—'})`,
            )
          : h('p', { class: 'good' }, 'No pause in force'),
      ),
      h(
        'div',
        { class: 'card', id: 'outbox' },
        h('h3', {}, 'Outbox'),
        h(
          'p',
          {},
          `${outbox.unpublished} unpublished`,
          outbox.oldestAgeMs === null ? '' : ` · oldest ${Math.round(outbox.oldestAgeMs / 1000)} s old`,
        ),
        outbox.topics.length === 0
          ? null
          : table(
              ['Topic', '#Unpublished', '#Failing'],
              outbox.topics.map((topic) => [
                h('span', { class: 'mono' }, topic.topic),
                topic.unpublished,
                topic.failing,
              ]),
            ),
      ),
    ),
    h('h3', {}, 'Apps'),
    h('div', { class: 'cards wide' }, ...apps),
    h('h3', {}, 'Consumer lag'),
    lag,
  ];
}

function appStatus(status: ServiceStatus): HTMLElement {
  return h(
    'div',
    {},
    h('p', { class: 'muted' }, `up ${status.uptimeSeconds} s`),
    table(
      ['Consumer', 'State', '#Received', '#Delivered', '#In process', '#Retried', '#Dead-lettered', '#Lost'],
      status.consumers.map((consumer) => [
        h('span', { class: 'mono' }, consumer.groupId),
        consumer.state,
        consumer.received,
        consumer.delivered,
        consumer.inProcess,
        consumer.retried,
        consumer.deadLettered,
        h('span', { class: consumer.lost > 0 ? 'bad' : '' }, consumer.lost),
      ]),
    ),
    status.recentErrors.length === 0
      ? h('p', { class: 'muted' }, 'No recent errors')
      : h(
          'details',
          {},
          h('summary', {}, `${status.recentErrors.length} recent error(s)`),
          h(
            'pre',
            {},
            status.recentErrors
              .map(
                (error) =>
                  `${error.at} ${error.topic ?? ''} ${error.errorClass ?? ''} ${error.error ?? error.message ?? ''}`,
              )
              .join('\n'),
          ),
        ),
  );
}

// --- dead letters ------------------------------------------------------------------------------------------------

async function renderDeadLetters(): Promise<void> {
  show(h('h2', {}, 'Dead letters'), h('p', { class: 'muted' }, 'Reading the dead-letter topics…'));
  const topics = await getJson<DeadLetterTopic[]>('/dead-letters');
  show(
    h('h2', {}, 'Dead letters'),
    table(
      ['Topic', '#Messages', 'Oldest', 'Newest', ''],
      topics.map((topic) => [
        topic.exists
          ? h('a', { href: `#dead-letters/${topic.topic}`, class: 'mono' }, topic.topic)
          : h('span', { class: 'mono muted' }, topic.topic),
        topic.messages,
        time(topic.oldest),
        time(topic.newest),
        topic.messages > 0 ? h('a', { href: `#dead-letters/${topic.topic}` }, 'Show') : '',
      ]),
      { id: 'dead-letter-topics' },
    ),
  );
}

async function renderDeadLetterTopic(topic: string): Promise<void> {
  const path = `/dead-letters/${encodeURIComponent(topic)}`;
  const result = h('div', { id: 'replay-result' });
  const replay = async (target: { partition: number; offset: number } | undefined): Promise<void> => {
    if (
      target === undefined &&
      !confirm(`Replay every message of ${topic} not replayed before to its origin topic?`)
    )
      return;
    try {
      const report = await send<ReplayReport>('POST', `${path}/replay`, target ?? {});
      const counts = Object.entries(report.counts)
        .filter(([, count]) => count > 0)
        .map(([outcome, count]) => `${count} ${outcome}`)
        .join(', ');
      result.replaceChildren(
        message(
          `Replay done: ${counts || 'nothing to replay'}.${report.warnings.length ? ` ${report.warnings.join(' ')}` : ''}`,
          'info',
          'replay-message',
        ),
      );
    } catch (error) {
      result.replaceChildren(
        message(error instanceof Error ? error.message : String(error), 'error', 'replay-message'),
      );
    }
  };
  show(
    h('p', {}, h('a', { href: '#dead-letters' }, '← Dead letters')),
    h('h2', { class: 'mono' }, topic),
    h('p', { class: 'muted' }, 'Reading…'),
  );
  const messages = await getJson<DeadLetterMessage[]>(`${path}?limit=100`);
  show(
    h('p', {}, h('a', { href: '#dead-letters' }, '← Dead letters')),
    h('h2', { class: 'mono' }, topic),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { id: 'replay-all', disabled: messages.length === 0, onclick: () => void replay(undefined) },
        'Replay all',
      ),
    ),
    result,
    messages.length === 0
      ? message('The topic is empty.')
      : table(
          ['#Partition', '#Offset', 'Origin', 'Reason', 'Error', '#Attempts', 'Dead-lettered', ''],
          messages.map((entry) => [
            entry.partition,
            entry.offset,
            h('span', { class: 'mono' }, entry.originTopic ?? '—'),
            entry.reason ?? '—',
            h(
              'details',
              {},
              h('summary', {}, `${entry.errorClass ?? ''} ${entry.error ?? ''}`.trim() || '—'),
              h(
                'pre',
                {},
                JSON.stringify(
                  { key: entry.key, headers: entry.headers, value: entry.valuePreview },
                  null,
                  2,
                ),
              ),
            ),
            entry.attempts,
            time(entry.deadLetteredAt ?? entry.timestamp),
            h(
              'button',
              {
                class: 'secondary',
                'data-offset': entry.offset,
                onclick: () => void replay({ partition: entry.partition, offset: entry.offset }),
              },
              'Replay',
            ),
          ]),
          { id: 'dead-letter-messages' },
        ),
  );
}

// --- start -------------------------------------------------------------------------------------------------------

document.getElementById('forget-token')?.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  renderLogin();
});
window.addEventListener('hashchange', route);
route();

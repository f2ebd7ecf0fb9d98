// The reference sender as `optare-webhooks dev` drives it: one endpoint (the developer's app), a virtual
// clock that follows wall time (so retries happen on their real schedule) and can skip ahead to the next
// due retry, and the two things a real sender never does: a tampered signature and a true duplicate.
import { EVENT_TYPES, SIGNATURE_HEADER } from "@optare/webhooks";
import { createSender, createVirtualClock, type DeliveryRecord } from "@optare/webhooks-sender";

const ORGANIZATION = { id: "org_abc", name: "Acme Inc" };
/** Sent events kept for resend/duplicate, and the signatures sent with them; older ones are forgotten. */
const KEEP = 200;

/** One attempt as the page shows it; times are wall-clock ISO-8601. */
export interface DeliveryView extends Omit<DeliveryRecord, "webhookId" | "url"> {
  /** The X-Optare-Signature header sent, or null when nothing was sent (endpoint paused). */
  signature: string | null;
  tampered: boolean;
}

interface SentEvent {
  type: string;
  data: Record<string, unknown>;
  timestamp: string;
  tampered: boolean;
}

export interface DevSenderOptions {
  url: string;
  secret: string;
  onDelivery: (view: DeliveryView) => void;
  /** How often the virtual clock catches up with wall time; default 1,000 ms. */
  tickMs?: number;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > KEEP) map.delete(map.keys().next().value as K);
}

const idOf = (body: unknown): string | null => {
  try {
    return (JSON.parse(String(body)) as { id?: string }).id ?? null;
  } catch {
    return null;
  }
};

/** The signature with its last hex digit changed: what a tampered request carries. */
export const tamper = (signature: string) => signature.slice(0, -1) + (signature.endsWith("0") ? "1" : "0");

export async function createDevSender({ url, secret, onDelivery, tickMs = 1000 }: DevSenderOptions) {
  const clock = createVirtualClock();
  const sent = new Map<string, SentEvent>();
  const signatures = new Map<string, string>();
  let ahead = 0; // how far "run retries now" moved the virtual clock past wall time
  let attempts = 0;
  const wall = (iso: string | null) =>
    iso === null ? null : new Date(Date.parse(iso) - ahead).toISOString();
  const view = ({ webhookId: _, url: __, ...record }: DeliveryRecord): DeliveryView => ({
    ...record,
    deliveredAt: wall(record.deliveredAt)!,
    nextAttemptAt: wall(record.nextAttemptAt),
    signature:
      record.statusCode === null && record.errorCode === "endpoint_disabled"
        ? null
        : (signatures.get(record.eventId) ?? null),
    tampered: sent.get(record.eventId)?.tampered ?? false,
  });

  // The sender's own fetch transport, through this: it records the signature sent and tampers on request.
  const fetchThrough: typeof fetch = (input, init) => {
    const headers = { ...(init?.headers as Record<string, string>) };
    const id = idOf(init?.body);
    if (id !== null && sent.get(id)?.tampered) headers[SIGNATURE_HEADER] = tamper(headers[SIGNATURE_HEADER]!);
    if (id !== null) remember(signatures, id, headers[SIGNATURE_HEADER]!);
    return globalThis.fetch(input, { ...init, headers });
  };
  const sender = createSender({
    allowInsecure: true,
    clock,
    fetch: fetchThrough,
    onDelivery: (record) => {
      attempts++;
      onDelivery(view(record));
    },
  });
  const webhook = await sender.createWebhook(ORGANIZATION.id, url, EVENT_TYPES, { secret });

  // Clock moves are serialised: the ticker and "run retries now" never fire timers at the same time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => {});
    return run;
  };
  const catchUp = () => clock.advance(Math.max(0, Date.now() + ahead - clock.now()));
  let closed = false;
  let ticker = setTimeout(function tick() {
    void serial(catchUp).finally(() => {
      if (!closed) ticker = setTimeout(tick, tickMs).unref();
    });
  }, tickMs).unref();

  async function emit(event: SentEvent, id?: string) {
    const { event: envelope, deliveries } = await sender.emit(event.type, event.data, ORGANIZATION, {
      id,
      timestamp: event.timestamp,
    });
    remember(sent, envelope.id, event);
    return { eventId: envelope.id, deliveries: deliveries.map(view) };
  }
  const find = (eventId: string) => sent.get(eventId) ?? null;

  return {
    webhook,
    /** A new event; with `tampered`, every attempt carries a wrong signature. */
    send: (type: string, data: Record<string, unknown>, tampered = false) => {
      const id = `evt_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
      // Remembered before the first attempt, so the transport knows to tamper with it.
      remember(sent, id, { type, data, timestamp: new Date().toISOString(), tampered });
      return emit(sent.get(id)!, id);
    },
    find,
    /** The same data as a new event: a fresh id and event time. */
    resend: (event: SentEvent) => emit({ ...event, timestamp: new Date().toISOString() }),
    /** The same id and the same bytes again. */
    duplicate: (eventId: string, event: SentEvent) => emit(event, eventId),
    /** Moves the clock to the next due retry and runs it (and any due with it); resolves with attempts made. */
    runRetriesNow: () =>
      serial(async () => {
        const next = clock.nextAt();
        if (next === null) return 0;
        const before = attempts;
        ahead = Math.max(ahead, next - Date.now());
        await catchUp();
        return attempts - before;
      }),
    /** Retries waiting, and when the next is due (wall clock). */
    retries: () => {
      const next = clock.nextAt();
      return {
        pending: sender.pendingRetries,
        nextAt: next === null ? null : new Date(next - ahead).toISOString(),
      };
    },
    setActive: async (active: boolean) => (await sender.setActive(webhook.id, active)).isActive,
    isActive: async () => (await sender.getWebhook(webhook.id))?.isActive ?? false,
    history: async () => (await sender.listDeliveries(webhook.id, 50)).map(view),
    close: async () => {
      closed = true;
      clearTimeout(ticker);
      await sender.close();
    },
  };
}

export type DevSender = Awaited<ReturnType<typeof createDevSender>>;

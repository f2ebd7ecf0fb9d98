// Server-sent events: the page opens one EventSource and the server pushes each delivery or capture as
// it happens. Nothing polls. A comment line every 15 s keeps idle proxies and the browser from timing out.
import type { IncomingMessage, ServerResponse } from "node:http";
import { InspectorError } from "./errors";
import { SECURITY_HEADERS } from "./http";

const HEARTBEAT_MS = 15_000;
/** Open streams at once: a few tabs; more is a leak, answered 503. */
const MAX_STREAMS = 32;

export interface EventStream {
  /** Takes over a `GET` request as an event stream. */
  open(req: IncomingMessage, res: ServerResponse): void;
  /** Sends `data` as JSON to every open stream, as an event named `name`. */
  broadcast(name: string, data: unknown): void;
  readonly size: number;
  close(): void;
}

export function createEventStream(): EventStream {
  const clients = new Set<ServerResponse>();
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(": keep-alive\n\n");
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    open(req, res) {
      if (clients.size >= MAX_STREAMS) {
        throw new InspectorError("too_many_streams", `At most ${MAX_STREAMS} pages may be open at once.`);
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write("retry: 2000\n\n");
      clients.add(res);
      req.on("close", () => clients.delete(res));
    },
    broadcast(name, data) {
      const message = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const res of clients) res.write(message);
    },
    get size() {
      return clients.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}

// Test support (not exported): raw HTTP requests over loopback with any headers (fetch will not set Host),
// and a reader for a server-sent event stream.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: () => any;
}

export function request(
  url: string,
  {
    method = "GET",
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode!, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A JSON POST from the page's own origin, as the browser sends it. */
export function post(base: string, path: string, body: unknown): Promise<RawAnswer> {
  const origin = new URL(base).origin;
  return request(new URL(path, base).href, {
    method: "POST",
    headers: { "content-type": "application/json", origin, "sec-fetch-site": "same-origin" },
    body: JSON.stringify(body),
  });
}

export interface EventReader {
  response: IncomingMessage;
  /** Resolves with the data of the next event named `name` that matches `where`. */
  next(name: string, where?: (data: any) => boolean): Promise<any>;
  close(): void;
}

/** Opens `url` as an event stream (same-origin headers) and parses events as they arrive. */
export function readEvents(url: string): Promise<EventReader> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { headers: { accept: "text/event-stream", "sec-fetch-site": "same-origin" } },
      (response) => {
        const seen: Array<{ name: string; data: any }> = [];
        const waiters: Array<{ name: string; where: (data: any) => boolean; resolve: (data: any) => void }> =
          [];
        let buffer = "";
        const settle = () => {
          for (const waiter of [...waiters]) {
            const index = seen.findIndex((event) => event.name === waiter.name && waiter.where(event.data));
            if (index === -1) continue;
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(seen.splice(index, 1)[0]!.data);
          }
        };
        response.on("error", () => {});
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const name = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (name !== undefined && data !== undefined) seen.push({ name, data: JSON.parse(data) });
            end = buffer.indexOf("\n\n");
          }
          settle();
        });
        resolve({
          response,
          next: (name, where = () => true) =>
            new Promise((done) => {
              waiters.push({ name, where, resolve: done });
              settle();
            }),
          close: () => req.destroy(),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

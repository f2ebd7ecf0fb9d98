// HTTP helpers for the tests of the Node transport and the adapters built on it (not part of the build):
// real servers on loopback, an `echo` core that reports what reached it, and raw requests.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { BodySource, WebhookReply, WebhookRequest, Webhooks } from "./index";

const servers: http.Server[] = [];

/** Closes every server `listen` started: call it in `afterEach`. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
}

export async function listen(app: http.RequestListener): Promise<string> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** How the body reached the core, and its bytes: reading a streamed body reads the request. */
export async function readSource(body: BodySource): Promise<{ source: string; bytes: Buffer }> {
  if (body === null) return { source: "none", bytes: Buffer.alloc(0) };
  if (typeof body === "string") return { source: "string", bytes: Buffer.from(body) };
  if (body instanceof Uint8Array) return { source: "bytes", bytes: Buffer.from(body) };
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return { source: "stream", bytes: Buffer.concat(chunks) };
}

export function json(value: unknown, status = 200): WebhookReply {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/** Echoes what reached the core: method, signature header, body source and a digest of the exact bytes. */
export const echo: Pick<Webhooks, "receive"> = {
  async receive(input: WebhookRequest) {
    const { source, bytes } = await readSource(input.body);
    return json({
      method: input.method,
      signature: input.header("x-optare-signature"),
      source,
      length: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    });
  },
};

/** Non-UTF-8, non-JSON bytes: any decode/re-encode on the way would change their digest. */
export const bytes = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x22, 0x0d, 0x0a, 0xc3, 0x28, 0x7d]);
export const digest = createHash("sha256").update(bytes).digest("hex");

/** One request over a fresh or given agent, with full control of headers and body chunks. */
export function request(
  url: string,
  options: {
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    chunks?: Buffer[];
    agent?: http.Agent;
  } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; socket: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? "POST", headers: options.headers, agent: options.agent },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        const socket = res.socket.localPort!; // tells a reused kept-alive connection from a new one
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body, socket }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("timed out: the server hung")));
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

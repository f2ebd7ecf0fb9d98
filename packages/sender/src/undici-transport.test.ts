// The default transport on its own, against loopback servers: it connects to the address it is given,
// never to a fresh lookup of the URL's host, and keeps that host for the Host header and TLS.
import { createServer, type Socket } from "node:net";
import { buildConnector } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "./test-server";
import { createUndiciTransport } from "./undici-transport";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task();
});

/** A transport whose connector records every socket it opens, and opens only loopback ones. */
function observed() {
  const base = buildConnector({ timeout: 2_000 });
  const opened: Array<{ hostname: string; servername: string | null | undefined; port: string }> = [];
  const transport = createUndiciTransport({
    connections: 2,
    timeoutMs: 2_000,
    connect: (options, callback) => {
      opened.push({ hostname: options.hostname, servername: options.servername, port: options.port });
      if (options.hostname !== "127.0.0.1") return callback(new Error("loopback only"), null);
      base(options, callback);
    },
  });
  cleanup.push(async () => transport.close());
  return { transport, opened };
}

const request = {
  body: "{}",
  headers: { "content-type": "application/json" },
  timeoutMs: 2_000,
  bodyLimit: 1024,
};

describe("createUndiciTransport", () => {
  it("connects to the checked address and sends the URL's host as Host", async () => {
    const server: TestServer = await startServer();
    cleanup.push(server.close);
    const { transport, opened } = observed();
    const url = `http://hooks.example.test:${server.port}/webhooks/optare?x=1`;

    const answer = await transport.post({ ...request, url, address: "127.0.0.1" });

    expect(answer).toMatchObject({ status: 200, body: '{"received":true}' });
    expect(opened).toEqual([{ hostname: "127.0.0.1", servername: null, port: String(server.port) }]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: "POST", path: "/webhooks/optare?x=1" });
    expect(server.requests[0]!.headers.host).toBe(`hooks.example.test:${server.port}`);
  });

  it("over TLS, names the URL's host in SNI while connecting to the checked address", async () => {
    // A TCP listener that hangs up on the ClientHello: enough to see where the connector went.
    const sockets: Socket[] = [];
    const listener = createServer((socket) => {
      sockets.push(socket);
      socket.once("data", () => socket.destroy());
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => listener.close(resolve)));
    const port = String((listener.address() as { port: number }).port);
    const { transport, opened } = observed();

    await expect(
      transport.post({ ...request, url: `https://hooks.example.test:${port}/hook`, address: "127.0.0.1" }),
    ).rejects.toThrow();

    expect(opened).toEqual([{ hostname: "127.0.0.1", servername: "hooks.example.test", port }]);
    expect(sockets).toHaveLength(1);
  });

  it("without an address (allowInsecure), connects to the URL's own host", async () => {
    const server = await startServer();
    cleanup.push(server.close);
    const { transport, opened } = observed();
    await transport.post({ ...request, url: server.url, address: null });
    expect(opened).toEqual([{ hostname: "127.0.0.1", servername: null, port: String(server.port) }]);
    expect(server.requests[0]!.headers.host).toBe(`127.0.0.1:${server.port}`);
  });
});

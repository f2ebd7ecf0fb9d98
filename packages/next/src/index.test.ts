import { fileURLToPath } from "node:url";
import { createWebhooks, type HandleContext } from "@optare/webhooks";
import { createRouteHandler } from "@optare/webhooks-next";
import { createEvent, signedRequest } from "@optare/webhooks-testing";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("createRouteHandler", () => {
  it("hands the core the route's own Request and context, and returns its Response unchanged", async () => {
    const answer = new Response("answer", { status: 401 });
    const seen: [Request, HandleContext | undefined][] = [];
    const waitUntil = (_: Promise<unknown>) => {};
    const receiver = {
      handle: async (request: Request, context?: HandleContext) => {
        seen.push([request, context]);
        return answer;
      },
    };
    const POST = createRouteHandler(receiver, { waitUntil });
    const request = new Request("http://localhost/webhooks/optare", { method: "POST", body: "{}" });
    expect(await POST(request)).toBe(answer);
    expect(seen).toEqual([[request, { waitUntil }]]);
    expect(seen[0]![0]).toBe(request); // not a copy: the body stream is the framework's own
    expect(seen[0]![1]?.waitUntil).toBe(waitUntil); // the platform's hook for late handler work
  });

  /** A body of `chunks` 64 KiB chunks (endless when Infinity) that records how far it was read. */
  function countingBody(chunks: number, init: { method?: string; headers?: Record<string, string> } = {}) {
    const state = { pulled: 0, cancelled: false };
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (state.pulled++ < chunks) controller.enqueue(new Uint8Array(64 * 1024));
          else controller.close();
        },
        cancel() {
          state.cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const request = new Request("http://localhost/webhooks/optare", {
      method: "POST",
      ...init,
      body,
      duplex: "half",
    } as RequestInit);
    return { state, request };
  }

  /** The real core, refusing anything over 1000 bytes: it stops reading after the first 64 KiB chunk. */
  const POST = createRouteHandler(createWebhooks({ secret: "s".repeat(64), maxBodyBytes: 1000 }));

  async function errorOf(response: Response) {
    return [response.status, ((await response.json()) as { error: { code: string } }).error.code];
  }

  it("answers the core's 413 and discards the rest of the body instead of cancelling it", async () => {
    const { state, request } = countingBody(40);
    expect(await errorOf(await POST(request))).toEqual([413, "payload_too_large"]);
    await expect.poll(() => state.pulled).toBe(41); // read to the end (40 chunks, then the close)…
    expect(state.cancelled).toBe(false); // …so Next.js's connection is left in a clean state
  });

  it("discards a body refused on its Content-Length without reading it first", async () => {
    const { state, request } = countingBody(40, { headers: { "content-length": String(40 * 64 * 1024) } });
    expect(await errorOf(await POST(request))).toEqual([413, "payload_too_large"]);
    await expect.poll(() => state.pulled).toBe(41);
    expect(state.cancelled).toBe(false);
  });

  it("bounds that discarding: an endless body is cancelled after 16 MiB", async () => {
    const { state, request } = countingBody(Number.POSITIVE_INFINITY);
    expect(await errorOf(await POST(request))).toEqual([413, "payload_too_large"]);
    await expect.poll(() => state.cancelled).toBe(true);
    expect(state.pulled).toBe(16 * 16 + 1); // 16 MiB in 64 KiB chunks, plus the chunk the core read
  });

  it("discards the body of a request it refuses with 405", async () => {
    const { state, request } = countingBody(40, { method: "PUT" });
    expect(await errorOf(await POST(request))).toEqual([405, "method_not_allowed"]);
    await expect.poll(() => state.pulled).toBe(41);
    expect(state.cancelled).toBe(false);
  });

  it("bundles for the Edge runtime: the entry itself imports nothing from Node.js", async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL("./index.ts", import.meta.url))],
      bundle: true,
      write: false,
      platform: "browser",
      format: "esm",
      conditions: ["edge-light"],
      external: ["next", "next/*", "@optare/webhooks"],
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/\bimport\b|\brequire\(/);
  });

  it("serves createWebhooks: a signed delivery is processed, a tampered one refused", async () => {
    const secret = "s".repeat(64);
    const processed: string[] = [];
    const POST = createRouteHandler(
      createWebhooks({ secret }).onAny((event) => void processed.push(event.id)),
    );
    const event = createEvent("member.added");
    expect((await POST(signedRequest("http://localhost/webhooks/optare", event, secret))).status).toBe(200);
    expect(
      (await POST(signedRequest("http://localhost/webhooks/optare", event, "x".repeat(64)))).status,
    ).toBe(401);
    expect(processed).toEqual([event.id]);
  });
});

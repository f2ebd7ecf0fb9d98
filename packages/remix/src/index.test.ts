import { createWebhooks, EVENT_TYPES, type WebhookEvent } from "@optare/webhooks";
import { createAction } from "@optare/webhooks-remix";
import { createEvent, signEvent, signedRequest } from "@optare/webhooks-testing";
import {
  createRequestHandler as createRemixHandler,
  type ServerBuild as RemixBuild,
} from "@remix-run/server-runtime";
import {
  type ActionFunction,
  createRequestHandler,
  type LoaderFunction,
  type ServerBuild,
} from "react-router";
import { describe, expect, it } from "vitest";

// The real core and the real React Router 7 / Remix 2 server runtimes. The builds are written by hand
// (what `react-router build` would emit for two routes), since compiling an app here would only test
// Vite; examples/remix runs the real production build.
const secret = "0123456789abcdef".repeat(4);

function setup(options: { maxBodyBytes?: number } = {}) {
  const seen: WebhookEvent[] = [];
  const webhooks = createWebhooks({ secret, ...options }).onAny((event) => {
    seen.push(event);
  });
  return { action: createAction(webhooks), seen };
}

/** A route module exporting the action as both `action` and `loader`, as the README shows. */
function routes(action: ReturnType<typeof createAction>) {
  return {
    root: { id: "root", path: "", module: {} },
    "routes/webhooks.optare": {
      id: "routes/webhooks.optare",
      parentId: "root",
      path: "webhooks/optare",
      module: { action, loader: action },
    },
  };
}

const entry = { module: { default: () => new Response("document", { status: 500 }) } };
const assets = { entry: { module: "/entry.js", imports: [] }, routes: {}, url: "/manifest.js", version: "1" };

function reactRouter(action: ReturnType<typeof createAction>) {
  const build = {
    entry,
    routes: routes(action),
    assets,
    publicPath: "/",
    assetsBuildDirectory: "build/client",
    future: {},
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
  } as unknown as ServerBuild;
  return createRequestHandler(build, "production");
}

function remix(action: ReturnType<typeof createAction>) {
  const build = {
    mode: "production",
    entry,
    routes: routes(action),
    assets,
    publicPath: "/",
    assetsBuildDirectory: "build/client",
    future: {},
    isSpaMode: false,
  } as unknown as RemixBuild;
  return createRemixHandler(build, "production");
}

const url = "http://localhost/webhooks/optare";

describe.each([
  ["React Router 7", reactRouter],
  ["Remix 2", remix],
])("createAction under %s", (_name, createHandler) => {
  it("returns the core's 200 for every event type, and runs the handler once per event", async () => {
    const { action, seen } = setup();
    const handle = createHandler(action);
    for (const type of EVENT_TYPES) {
      const res = await handle(signedRequest(url, createEvent(type), secret));
      expect([type, res.status, await res.json()]).toEqual([type, 200, { received: true }]);
    }
    expect(seen.map((event) => event.event)).toEqual([...EVENT_TYPES]);
  });

  it("passes the exact bytes: a tampered body gets the core's 401", async () => {
    const { action, seen } = setup();
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const res = await createHandler(action)(new Request(url, { method: "POST", body: `${body} `, headers }));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("signature_mismatch");
    expect(seen).toEqual([]);
  });

  it("answers GET through the loader with the core's 405 and Allow: POST", async () => {
    const res = await createHandler(setup().action)(new Request(url));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers a duplicate 200 without running the handler again", async () => {
    const { action, seen } = setup();
    const handle = createHandler(action);
    const event = createEvent("member.added");
    expect((await handle(signedRequest(url, event, secret))).status).toBe(200);
    const again = await handle(signedRequest(url, event, secret));
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(seen).toHaveLength(1);
  });
});

/** A body of `chunks` chunks of `size` bytes (endless when Infinity) that records how far it was read. */
function trackedBody(chunks: number, size: number) {
  const state = { sent: 0, cancelled: false, finished: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.sent === chunks) {
          state.finished = true;
          controller.close();
        } else {
          state.sent++;
          controller.enqueue(new Uint8Array(size).fill(32));
        }
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

/** A signed-looking POST whose body is `stream` (the core refuses it on size before checking anything). */
function streamed(stream: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  const signed = signEvent("{}", secret).headers;
  return new Request(url, {
    method: "POST",
    body: stream,
    headers: { ...signed, ...headers },
    duplex: "half",
  } as RequestInit);
}

// The real core refuses bodies over `maxBodyBytes` part-way; the Node servers behind React Router and
// Remix destroy the connection when their request body is cancelled, so the core must drain it instead.
describe.each([
  ["React Router 7", reactRouter],
  ["Remix 2", remix],
])("createAction body handling under %s", (_name, createHandler) => {
  const handle = createHandler(setup({ maxBodyBytes: 1000 }).action);

  it("drains, never cancels, the framework's body when the core stops reading at the limit", async () => {
    const { stream, state } = trackedBody(50, 100);
    const res = await handle(streamed(stream));
    expect(res.status).toBe(413);
    await expect.poll(() => state.finished).toBe(true);
    expect([state.sent, state.cancelled]).toEqual([50, false]);
  });

  it("drains a body the core never read (declared too large)", async () => {
    const { stream, state } = trackedBody(30, 100);
    const res = await handle(streamed(stream, { "content-length": "3000" }));
    expect(res.status).toBe(413);
    await expect.poll(() => state.finished).toBe(true);
    expect([state.sent, state.cancelled]).toEqual([30, false]);
  });

  it("bounds that draining: an endless body is cancelled after 16 MiB", async () => {
    const { stream, state } = trackedBody(Number.POSITIVE_INFINITY, 64 * 1024);
    const res = await handle(streamed(stream));
    expect(res.status).toBe(413);
    await expect.poll(() => state.cancelled).toBe(true);
    expect(state.sent).toBe(16 * 16 + 1); // 16 MiB in 64 KiB chunks, plus the chunk the core read
  });

  it("drains the body of a request answered 405", async () => {
    const { stream, state } = trackedBody(30, 100);
    const res = await handle(
      new Request(url, { method: "PUT", body: stream, duplex: "half" } as RequestInit),
    );
    expect(res.status).toBe(405);
    await expect.poll(() => state.finished).toBe(true);
    expect(state.cancelled).toBe(false);
  });
});

describe("createAction", () => {
  it("is a valid React Router action and loader", () => {
    const { action } = setup();
    const asAction: ActionFunction = action;
    const asLoader: LoaderFunction = action;
    expect([asAction, asLoader]).toEqual([action, action]);
  });
});

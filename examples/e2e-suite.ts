// Shared end-to-end checks for the example apps (SPEC §7). Each example's test/e2e.test.ts builds its
// app, starts it as a real server with `startServer`, and registers these checks with `describeDeliveries`.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { EVENT_TYPES } from "@optare/webhooks";
import { createEvent, ROWS, runConformance, signEvent } from "@optare/webhooks-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Fails with instructions when a package the example consumes has not been built (examples use dist). */
export function assertPackagesBuilt(...dirs: string[]): void {
  const missing = dirs.filter((dir) => !existsSync(`${root}packages/${dir}/dist/index.js`));
  if (missing.length > 0) {
    throw new Error(
      `Build the packages first (examples run on their dist): pnpm build  [missing: ${missing.join(", ")}]`,
    );
  }
}

/** Runs the example's `pnpm run build`; throws with the build's whole output when it fails. */
export function build(cwd: string, timeoutMs = 240_000): void {
  // Under `pnpm test` pnpm names itself in npm_execpath (it need not be on PATH, e.g. run through npx).
  const self = process.env.npm_execpath;
  const [command, ...args] = self?.includes("pnpm")
    ? /\.[cm]?js$/.test(self)
      ? [process.execPath, self]
      : [self]
    : ["pnpm"];
  const result = spawnSync(command!, [...args, "run", "build"], {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
  });
  if (result.status !== 0) {
    throw new Error(
      `build failed in ${cwd} (${result.error ?? `exit ${result.status}`}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningServer {
  url: string;
  /** Everything the server printed so far. */
  output: () => string;
  stop: () => Promise<void>;
}

export interface ServerOptions {
  /**
   * Added to the server's environment (after this process's own); `undefined` removes a variable, e.g.
   * `{ DATABASE_URL: undefined }` for an example's in-memory mode whatever the caller's environment says.
   */
  env?: Record<string, string | undefined>;
}

/** A child process of a test: `node <args>` leading its own process group, so `stop` ends all it started. */
interface Spawned {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function spawnNode(cwd: string, args: string[], env: NodeJS.ProcessEnv): Spawned {
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  let output = "";
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd,
    detached: true,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, "SIGTERM");
    const killer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
  };
  return { child, output: () => output, stop };
}

/**
 * Spawns `node <args>` in `cwd` with PORT, HOST=127.0.0.1 and OPTARE_WEBHOOK_SECRET set (and `env`), and
 * waits until `GET /events` answers. The child leads its own process group so `stop` ends everything it
 * started.
 */
export async function startServer(
  cwd: string,
  args: string[],
  secret: string,
  { env: extra = {} }: ServerOptions = {},
): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { child, output, stop } = spawnNode(cwd, args, {
    ...process.env,
    ...extra,
    PORT: String(port),
    HOST: "127.0.0.1",
    OPTARE_WEBHOOK_SECRET: secret,
    NODE_ENV: "production",
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    const ready = await fetch(`${url}/events`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return { url, output, stop };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`server did not answer GET /events within 30 s:\n${output()}`);
}

export interface RunningProcess {
  /** Everything the process printed so far. */
  output: () => string;
  stop: () => Promise<void>;
}

export interface ProcessOptions extends ServerOptions {
  /** The process is up once its output matches this. */
  ready: RegExp;
}

/**
 * Spawns `node <args>` in `cwd` that serves no HTTP (a queue worker), with OPTARE_WEBHOOK_SECRET set (and
 * `env`), and waits until its output matches `ready`. Like `startServer`'s, `stop` ends its process group.
 */
export async function startProcess(
  cwd: string,
  args: string[],
  secret: string,
  { env: extra = {}, ready }: ProcessOptions,
): Promise<RunningProcess> {
  const { child, output, stop } = spawnNode(cwd, args, {
    ...process.env,
    ...extra,
    OPTARE_WEBHOOK_SECRET: secret,
    NODE_ENV: "production",
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    if (ready.test(output())) return { output, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`process printed nothing matching ${ready} within 30 s:\n${output()}`);
}

/** Polls `read` every 100 ms until `done(value)`, for at most `ms`; returns the last value either way. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface DeliveryPaths {
  /** The webhook route. Default `/webhooks/optare` (SPEC §7). */
  hook?: string;
  /** Where that route's processed ids are listed. Default `/events`. */
  events?: string;
  /**
   * Queue mode (SPEC §8.3): first deliveries are answered 200 `{"received":true,"queued":true}` and a
   * worker process runs the handlers later, so the listing check waits (polling, at most
   * `processedWithinMs`, default 30 s) until `events` lists every delivered id.
   */
  queued?: boolean;
  processedWithinMs?: number;
}

/**
 * Registers, in order, the signed deliveries every example route must handle over real HTTP, then the
 * check that `events` lists exactly the processed ids, newest first (after any listed before, for routes
 * sharing one list), and last the conformance kit driven by the reference sender.
 */
export function describeDeliveries(
  server: () => RunningServer,
  secret: string,
  {
    hook: hookPath = "/webhooks/optare",
    events = "/events",
    queued = false,
    processedWithinMs = 30_000,
  }: DeliveryPaths = {},
): void {
  const accepted = queued ? { received: true, queued: true } : { received: true };
  const processed: string[] = [];
  let before: string[] = [];
  const hook = () => `${server().url}${hookPath}`;
  const listed = async () => (await (await fetch(`${server().url}${events}`)).json()) as string[];
  const post = (body: BodyInit, headers: Record<string, string>) =>
    fetch(hook(), { method: "POST", body, headers, duplex: "half" } as RequestInit);
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it(`answers 200 to each of the ${EVENT_TYPES.length} event types`, async () => {
    before = await listed();
    for (const type of EVENT_TYPES) {
      const event = createEvent(type);
      const { body, headers } = signEvent(event, secret);
      const res = await post(body, headers);
      expect([type, res.status, await res.json()]).toEqual([type, 200, accepted]);
      processed.unshift(event.id);
    }
  });

  it("answers 401 to a tampered body, a wrong-length signature and a non-hex one", async () => {
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const tampered = await post(body.replace("john@example.com", "eve@example.com"), headers);
    expect([tampered.status, await errorCode(tampered)]).toEqual([401, "signature_mismatch"]);
    const short = await post(body, {
      ...headers,
      "x-optare-signature": headers["x-optare-signature"].slice(1),
    });
    expect([short.status, await errorCode(short)]).toEqual([401, "signature_malformed"]);
    const notHex = await post(body, { ...headers, "x-optare-signature": "zz".repeat(32) });
    expect([notHex.status, await errorCode(notHex)]).toEqual([401, "signature_malformed"]);
  });

  it("answers 200 to a duplicate without running the handler again", async () => {
    const event = createEvent("member.added");
    const { body, headers } = signEvent(event, secret);
    const first = await post(body, headers);
    expect([first.status, await first.json()]).toEqual([200, accepted]);
    processed.unshift(event.id);
    const again = await post(body, headers);
    expect([again.status, await again.json()]).toEqual([200, { received: true, duplicate: true }]);
  });

  it("answers 200 to an unknown event type", async () => {
    const event = { ...createEvent("user.created"), event: "widget.exploded" };
    const { body, headers } = signEvent(event, secret);
    expect((await post(body, headers)).status).toBe(200);
    processed.unshift(event.id);
  });

  it("answers 400 to malformed JSON with a valid signature", async () => {
    const { body, headers } = signEvent('{"event":"user.created",', secret);
    const res = await post(body, headers);
    expect([res.status, await errorCode(res)]).toEqual([400, "invalid_json"]);
  });

  it("answers 413 to a body over the 1 MiB limit, declared or streamed, and keeps serving", async () => {
    const { headers } = signEvent("{}", secret);
    const declared = await post(new Uint8Array(1024 * 1024 + 1).fill(32), headers);
    expect([declared.status, await errorCode(declared)]).toEqual([413, "payload_too_large"]);
    // No Content-Length: the limit is enforced while reading, after part of the body arrived.
    const chunk = new Uint8Array(64 * 1024).fill(32);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await post(body, headers);
    expect([streamed.status, await errorCode(streamed)]).toEqual([413, "payload_too_large"]);
    // The refused rest of the body was discarded, not left stuck: the server still answers.
    expect((await fetch(`${server().url}${events}`)).status).toBe(200);
  });

  // A route that lists its ids on GET itself (the Next.js Edge route) has no 405 to give.
  it.skipIf(hookPath === events)("answers 405 with Allow: POST to GET on the webhook path", async () => {
    const res = await fetch(hook());
    expect([res.status, res.headers.get("allow")]).toEqual([405, "POST"]);
  });

  it(`lists exactly the processed ids at GET ${events}, newest first`, async () => {
    expect(processed).toHaveLength(EVENT_TYPES.length + 2);
    const expected = [...processed, ...before];
    // Queue mode: the worker runs the handlers after the answer; wait until it has run them all.
    const ids = queued
      ? await poll(listed, (ids) => ids.length >= expected.length, processedWithinMs)
      : await listed();
    expect(ids).toEqual(expected);
  });

  it("passes the conformance kit driven by the reference sender", async () => {
    // A route that also serves GET on purpose (its ids) is not held to the 405 row, as above.
    const report = await runConformance({
      url: hook(),
      secret,
      ...(hookPath === events ? { skip: [ROWS.method] } : {}),
    });
    expect(report.checks.filter((check) => !check.passed)).toEqual([]);
    expect(report.checks.length).toBeGreaterThan(EVENT_TYPES.length);
  });
}

/**
 * The whole suite for an example that builds into one server entry: build it (on the packages' dist),
 * start it, check that it says where it listens, and deliver every event type (`describeDeliveries`).
 * `testUrl` is the calling test file's `import.meta.url` (the example is its parent folder).
 */
export function describeBuiltExample(
  title: string,
  { testUrl, packages, entry }: { testUrl: string; packages: string[]; entry: string },
): void {
  const cwd = fileURLToPath(new URL("..", testUrl));
  const secret = "0123456789abcdef".repeat(4);
  beforeAll(() => {
    assertPackagesBuilt(...packages);
    build(cwd);
  }, 120_000);
  describe(title, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(cwd, [entry], secret);
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    it("says where it listens", () => {
      expect(server.output()).toContain("POST /webhooks/optare, GET /events");
    });
    describeDeliveries(() => server, secret);
  });
}

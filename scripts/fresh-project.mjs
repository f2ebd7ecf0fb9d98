// Fresh-project check: what a user gets from npm, without the workspace. Packs every published package
// (run after `pnpm build`), installs the tarballs with npm into a new project in the OS temp directory
// together with real dependencies from the registry, type-checks a consumer under every supported
// `moduleResolution`, and runs an Express receiver from the packed packages (CJS and ESM) against one
// correctly signed event and one bad signature. Then the README quickstarts, read from the README files at
// run time and written verbatim into new apps (Express, a `Request` handler, Next.js): each builds with no
// `OPTARE_WEBHOOK_SECRET`, answers 500 `invalid_configuration` with a stderr line while the secret is
// missing, and once it is set logs a handler failure (its CRM is down: a closed loopback port) to stderr
// and answers 200 to an event that succeeds. Exits non-zero on the first failing step.
//
// The check is a list of named steps sharing one context (`ctx`, below); add a step by appending to
// `steps`. `FRESH_KEEP=1` keeps the temp project for inspection.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

/** Registry dependencies of the fresh project, pinned (Node 20 compatible). */
const REGISTRY_DEPS = {
  express: "5.3.0",
  typescript: "5.9.3",
  "@types/express": "5.0.6",
  "@types/node": "20.19.43",
};

/** Published packages: packages/* that are not private. */
const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ pkg }) => !pkg.private);

/** The Next.js app of the Next.js quickstart step (its own npm project, beside the first one). */
const NEXT_DEPS = {
  next: "16.4.6",
  react: "19.3.1",
  "react-dom": "19.3.1",
  typescript: "5.9.3",
  "@types/react": "19.3.3",
  "@types/node": "20.19.43",
};

/** The endpoint secret the quickstarts get when a step sets one (64 lowercase hex characters). */
const SECRET = "5e".repeat(32);

/**
 * The environment for npm and the project's processes: none of the `npm_*` settings pnpm passes down,
 * and no webhook secret or CRM address from the caller's shell (a step adds them where it means to).
 */
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^npm_/i.test(key) && key !== "OPTARE_WEBHOOK_SECRET" && key !== "CRM_URL",
  ),
);
env.NEXT_TELEMETRY_DISABLED = "1";

/** pnpm itself: the one running this script when there is one, else `pnpm` on PATH. */
const pnpm = /pnpm/.test(process.env.npm_execpath ?? "")
  ? [process.execPath, process.env.npm_execpath]
  : ["pnpm"];

const ctx = {
  /** The fresh project (the temp directory holds it and the tarballs). */
  dir: "",
  /** Tarball paths, by package name. */
  tarballs: {},
  /** The Next.js app (a second npm project, in the same temp directory). */
  nextDir: "",
  /** Writes `content` to `file` in the fresh project (or in `base`). */
  write(file, content, base = ctx.dir) {
    const path = join(base, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  },
  /** Runs a command to completion with output shown; throws when it fails. */
  exec(command, args, { cwd = ctx.dir, timeoutMs = 120_000, extraEnv = {} } = {}) {
    console.log(`  $ ${shown(extraEnv)}${[command, ...args].join(" ")}`);
    execFileSync(command, args, { cwd, env: { ...env, ...extraEnv }, stdio: "inherit", timeout: timeoutMs });
  },
  /** Runs `node <file>` in the project, output shown, killed after `timeoutMs`; throws on a non-zero exit. */
  node(file, { timeoutMs = 30_000, extraEnv = {} } = {}) {
    console.log(`  $ node ${file}`);
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [file], {
        cwd: ctx.dir,
        env: { ...env, ...extraEnv },
        stdio: "inherit",
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolvePromise();
        else reject(new Error(`node ${file} exited with ${signal ?? `status ${code}`}`));
      });
    });
  },
  /**
   * Starts `node <args>` in the background with its output captured (not shown): a server. `stop()` ends
   * it and its children (it leads a process group of its own); the runner stops any left running.
   */
  serve(args, { cwd = ctx.dir, extraEnv = {} } = {}) {
    console.log(`  $ ${shown(extraEnv)}node ${args.join(" ")} &`);
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let exit;
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise((resolveExit) => {
      child.on("error", (error) => {
        exit = error.message;
        resolveExit();
      });
      child.on("exit", (code, signal) => {
        exit = signal ?? `status ${code}`;
        resolveExit();
      });
    });
    const output = () => `--- stdout ---\n${stdout}--- stderr ---\n${stderr}`;
    const server = {
      pid: child.pid,
      /** Resolves once 127.0.0.1:`port` accepts connections; throws if the process exits first. */
      async listening(port, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        while (!(await accepts(port))) {
          if (exit) throw new Error(`the server exited (${exit}) before listening\n${output()}`);
          if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}\n${output()}`);
          await sleep(100);
        }
      },
      /** The server's stderr matches `pattern` within `timeoutMs` (it prints the match); else throws. */
      async stderrShows(what, pattern, timeoutMs = 5_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const match = pattern.exec(stderr);
          if (match) {
            console.log(`  ${what}: yes\n${indent(match[0])}`);
            return;
          }
          if (Date.now() > deadline) throw new Error(`${what}: no (${pattern})\n${output()}`);
          await sleep(50);
        }
      },
      async stop() {
        running.delete(server);
        if (exit) return;
        killGroup(child.pid, "SIGTERM");
        const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      },
    };
    running.add(server);
    return server;
  },
  /** Runs `node <args>` to completion with its output captured; resolves to it and the exit status. */
  capture(args, { cwd = ctx.dir, extraEnv = {}, timeoutMs = 30_000 } = {}) {
    console.log(`  $ ${shown(extraEnv)}node ${args.join(" ")}`);
    return new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, args, { cwd, env: { ...env, ...extraEnv } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        resolveRun({ status: signal ?? code, stdout, stderr });
      });
    });
  },
  /** Signs `event` with `@optare/webhooks-testing` from the tarball and POSTs it to `url` (loopback). */
  async deliver(url, event, secret = SECRET) {
    const { body, headers } = testing().signEvent(event, secret);
    const res = await fetch(url, { method: "POST", body, headers });
    return { status: res.status, body: await res.text(), request: { body, headers } };
  },
  /** A fixture event of `type`, from `@optare/webhooks-testing` in the tarball. */
  event(type) {
    return testing().createEvent(type);
  },
};

/** `@optare/webhooks-testing` as installed in the fresh project from its tarball. */
const testing = () => createRequire(join(ctx.dir, "package.json"))("@optare/webhooks-testing");

/** Servers started by `ctx.serve` and not stopped yet; killed if the check ends without stopping them. */
const running = new Set();
process.on("exit", () => {
  for (const server of running) killGroup(server.pid, "SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
const indent = (text) =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => `    | ${line}`)
    .join("\n");
/** `A=1 B=2 ` for a command line as printed. */
const shown = (extraEnv) =>
  Object.entries(extraEnv)
    .map(([key, value]) => `${key}=${value} `)
    .join("");

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port) {
  return new Promise((resolveAccepts) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolveAccepts(true);
    });
    socket.once("error", () => resolveAccepts(false));
  });
}

/** A loopback port nothing listens on now: for a server to take, or as the address of a service that is down. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/** Prints `what: actual` and throws unless `actual` (compared as JSON) is `expected`. */
function expect(what, actual, expected) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  console.log(`  ${what}: ${a}${a === e ? "" : ` (expected ${e})`}`);
  if (a !== e) throw new Error(`${what}: ${a}, expected ${e}`);
}

/** `status code` of an answer: `500 invalid_configuration`, `200 {"received":true}`. */
function answer({ status, body }) {
  try {
    const json = JSON.parse(body);
    return `${status} ${json.error?.code ?? JSON.stringify(json)}`;
  } catch {
    return `${status} ${body}`;
  }
}

// ── the consumer code ────────────────────────────────────────────────────────────────────────────────

/** Type-checked under every resolution mode: the public entries, typed events, the adapter, fixtures. */
const consumerTs = `import { createWebhooks, type OptareEvent, sign } from "@optare/webhooks";
import {
  type Payload,
  type Secrets,
  SIGNATURE_HEADER,
  verifySignature,
  verifySignatureAsync,
} from "@optare/webhooks/verify";
// @ts-expect-error: the /verify entry exports the public API only, not the core's internal helpers.
import { toBytes } from "@optare/webhooks/verify";
import { createNodeHandler } from "@optare/webhooks/node";
import { createWebhookMiddleware } from "@optare/webhooks-express";
import { createEvent } from "@optare/webhooks-testing";
import express from "express";

const webhooks = createWebhooks({ secret: "${"5e".repeat(32)}" });
webhooks.on("user.created", (event: OptareEvent<"user.created">) => {
  const email: string = event.data.user.email;
  return void email;
});
const app = express();
app.post("/webhooks/optare", createWebhookMiddleware(webhooks));

const body: Payload = JSON.stringify(createEvent("user.created"));
const secrets: Secrets = ["whsec_old", "whsec_test"];
const header: "x-optare-signature" = SIGNATURE_HEADER;
const valid: boolean = verifySignature(body, sign(body, "whsec_test"), secrets);
const pending: Promise<boolean> = verifySignatureAsync(body, "00", secrets);
const nodeHandler: (...args: never[]) => unknown = createNodeHandler(webhooks);
export { header, nodeHandler, pending, toBytes, valid };
`;

/** The receiver, in CJS or ESM: serves the packed Express adapter and sends itself two deliveries. */
function receiverScript(format) {
  const load =
    format === "cjs"
      ? `const express = require("express");
const { createWebhooks, sign } = require("@optare/webhooks");
const { createWebhookMiddleware } = require("@optare/webhooks-express");
const { createEvent } = require("@optare/webhooks-testing");`
      : `import express from "express";
import { createWebhooks, sign } from "@optare/webhooks";
import { createWebhookMiddleware } from "@optare/webhooks-express";
import { createEvent } from "@optare/webhooks-testing";`;
  return `${load}

const SECRET = "${"5e".repeat(32)}"; // an endpoint secret's shape: 64 lowercase hex characters
const handled = [];
const webhooks = createWebhooks({ secret: SECRET });
webhooks.on("user.created", (event) => {
  handled.push(event.id);
});
const app = express();
app.all("/webhooks/optare", createWebhookMiddleware(webhooks));
app.use(express.json());

const server = app.listen(0, "127.0.0.1", async () => {
  const url = \`http://127.0.0.1:\${server.address().port}/webhooks/optare\`;
  const post = (body, signature) =>
    fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-optare-signature": signature },
    });
  let failed = false;
  const expect = (what, actual, expected) => {
    const ok = actual === expected;
    failed ||= !ok;
    console.log(\`  ${format}: \${what}: \${actual}\${ok ? "" : \` (expected \${expected})\`}\`);
  };
  try {
    const event = createEvent("user.created");
    const body = JSON.stringify(event);
    const good = await post(body, sign(body, SECRET));
    expect("correctly signed event -> status", good.status, 200);
    expect("handler ran for it", handled.includes(event.id), true);
    const other = createEvent("user.created");
    const otherBody = JSON.stringify(other);
    const bad = await post(otherBody, sign(otherBody, "whsec_someone_else"));
    expect("bad signature -> status", bad.status, 401);
    expect("handler did not run for it", handled.includes(other.id), false);
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    server.close();
    server.closeAllConnections?.();
  }
  process.exitCode = failed ? 1 : 0;
});
`;
}

/** A tsconfig for one resolution mode, over the given files. */
function tsconfig(compilerOptions, files) {
  return `${JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        skipLibCheck: false,
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        types: ["node"],
        ...compilerOptions,
      },
      files,
    },
    null,
    2,
  )}\n`;
}

const typecheck = (name) => () => ctx.exec(process.execPath, ["node_modules/typescript/bin/tsc", "-p", name]);

// ── the README quickstarts ───────────────────────────────────────────────────────────────────────────

/**
 * A fenced code block of a README, read now: the first ```` ```lang ```` block in the `## section` (the
 * whole file when `section` is omitted) whose first line starts with `firstLine`. Throws, naming it, when
 * the README no longer has one; the check always tests the README's current text.
 */
function readmeBlock(file, { section, firstLine = "", lang = "ts" } = {}) {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  let current;
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.*)$/.exec(lines[i]);
    if (heading) current = heading[1].trim();
    const fence = /^(`{3,})(\S*)/.exec(lines[i]);
    if (!fence) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith(fence[1])) end++;
    const code = lines.slice(i + 1, end);
    if (
      fence[2] === lang &&
      (section === undefined || current === section) &&
      code[0].startsWith(firstLine)
    ) {
      const where = `${file}${section ? ` § ${section}` : ""}, ${firstLine || `first ${lang} block`}`;
      console.log(`  read ${where} (lines ${i + 2}-${end}, ${code.length} lines)`);
      return `${code.join("\n")}\n`;
    }
    i = end;
  }
  throw new Error(
    `${file}: no \`\`\`${lang} block${section ? ` under "## ${section}"` : ""}${firstLine ? ` starting "${firstLine}"` : ""}`,
  );
}

/** The stderr line of a request refused for want of a secret. */
const NO_SECRET_LINE = /^\[optare-webhooks\] .*status=500 code=invalid_configuration.*$/m;

/** The stderr lines of a `user.deleted` event whose handler threw: the line, then the stack. */
const handlerFailedLines = (eventId) =>
  new RegExp(
    `^\\[optare-webhooks\\] .*status=500 code=handler_failed eventType=user\\.deleted eventId=${eventId} durationMs=\\d+\\n  caused by: .+(\\n +at .+){0,2}`,
    "m",
  );

/** A tsconfig that type-checks (strict) and compiles Node ESM: `.mts` files to `.mjs` in `dist`. */
const emitTsconfig = (files) =>
  tsconfig({ module: "nodenext", moduleResolution: "nodenext", noEmit: false, outDir: "dist" }, files);

/** The harness (Node ESM, compiled with the quickstarts it imports) that calls their `POST`. */
const harnessTs = `// Delivers signed events to a README quickstart's \`POST\` (a Web \`Request\` handler), one per argument,
// and prints each answer on a \`result\` line. The quickstart logs on stderr.
import type { EventType } from "@optare/webhooks";
import { createEvent, signEvent } from "@optare/webhooks-testing";

const quickstarts = {
  root: () => import("./root.mjs"),
  webhooks: () => import("./webhooks.mjs"),
};
const [name, ...types] = process.argv.slice(2);
const { POST } = await quickstarts[name as keyof typeof quickstarts]();
for (const type of types) {
  const event = createEvent(type as EventType);
  const { body, headers } = signEvent(event, "${SECRET}");
  const request = new Request("http://127.0.0.1/webhooks/optare", { method: "POST", body, headers });
  const res: Response = await POST(request);
  console.log(\`result \${JSON.stringify({ id: event.id, status: res.status, body: await res.text() })}\`);
}
`;

/** Runs the harness on one quickstart; resolves to its answers and stderr. */
async function harness(name, types, extraEnv = {}) {
  const run = await ctx.capture(["readme/core/dist/harness.mjs", name, ...types], { extraEnv });
  if (run.status !== 0) {
    throw new Error(
      `the harness exited with ${run.status}\n--- stdout ---\n${run.stdout}--- stderr ---\n${run.stderr}`,
    );
  }
  const results = run.stdout
    .split("\n")
    .filter((line) => line.startsWith("result "))
    .map((line) => JSON.parse(line.slice("result ".length)));
  return { results, stderr: run.stderr };
}

/** Checks that `stderr` (a finished process's) matches `pattern`, printing the match. */
function stderrShows(what, stderr, pattern) {
  const match = pattern.exec(stderr);
  if (!match) throw new Error(`${what}: no (${pattern})\n--- stderr ---\n${stderr}`);
  console.log(`  ${what}: yes\n${indent(match[0])}`);
}

/** The Request-handler quickstart `name` (harness module), without and with the secret. */
async function checkCoreQuickstart(name) {
  console.log(`  ${name}: no OPTARE_WEBHOOK_SECRET`);
  const missing = await harness(name, ["user.created"]);
  expect(
    `${name}: signed user.created, no secret -> answer`,
    answer(missing.results[0]),
    "500 invalid_configuration",
  );
  stderrShows(`${name}: stderr has the [optare-webhooks] line`, missing.stderr, NO_SECRET_LINE);

  const crm = await freePort();
  console.log(
    `  ${name}: OPTARE_WEBHOOK_SECRET set, CRM_URL=http://127.0.0.1:${crm} (nothing listens there)`,
  );
  const run = await harness(name, ["user.deleted", "user.created"], {
    OPTARE_WEBHOOK_SECRET: SECRET,
    CRM_URL: `http://127.0.0.1:${crm}`,
  });
  const [failed, ok] = run.results;
  expect(`${name}: user.deleted, CRM down -> answer`, answer(failed), "500 handler_failed");
  stderrShows(
    `${name}: stderr has the handler failure and its stack`,
    run.stderr,
    handlerFailedLines(failed.id),
  );
  expect(`${name}: user.created -> answer`, answer(ok), '200 {"received":true}');
}

// ── the steps ────────────────────────────────────────────────────────────────────────────────────────

const steps = [
  {
    name: "pack the published packages",
    run() {
      const missing = packages.filter(({ dir }) => !existsSync(join(dir, "dist")));
      if (missing.length > 0) {
        throw new Error(
          `not built: ${missing.map(({ pkg }) => pkg.name).join(", ")}; run \`pnpm build\` first`,
        );
      }
      const out = join(ctx.dir, "..", "tarballs");
      mkdirSync(out, { recursive: true });
      for (const { dir, pkg } of packages) {
        const [command, ...args] = pnpm;
        const printed = execFileSync(command, [...args, "pack", "--pack-destination", out], {
          cwd: dir,
          encoding: "utf8",
        });
        ctx.tarballs[pkg.name] = printed.trim().split("\n").pop();
        console.log(`  ${pkg.name} -> ${ctx.tarballs[pkg.name]}`);
      }
    },
  },
  {
    name: "npm install the tarballs and registry dependencies into a fresh project",
    run() {
      ctx.write("package.json", `${JSON.stringify({ name: "fresh-project", private: true }, null, 2)}\n`);
      const registry = Object.entries(REGISTRY_DEPS).map(([name, version]) => `${name}@${version}`);
      // Peers are resolved and their ranges checked (a conflict fails the install), but the ones the
      // project does not list itself (next, react…) are not downloaded: --omit=peer.
      ctx.exec("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--loglevel=error",
        "--omit=peer",
        ...Object.values(ctx.tarballs),
        ...registry,
      ]);
      // A CJS project (no "type"); the ESM files are .mts/.mjs.
      ctx.write("consumer.mts", consumerTs);
      ctx.write("consumer.cts", consumerTs);
      ctx.write("consumer.ts", consumerTs);
      ctx.write(
        "tsconfig.nodenext.json",
        tsconfig({ module: "nodenext", moduleResolution: "nodenext" }, ["consumer.mts", "consumer.cts"]),
      );
      ctx.write(
        "tsconfig.bundler.json",
        tsconfig({ module: "esnext", moduleResolution: "bundler" }, ["consumer.ts"]),
      );
      ctx.write(
        "tsconfig.node10.json",
        tsconfig({ module: "commonjs", moduleResolution: "node10" }, ["consumer.ts"]),
      );
      ctx.write("receiver.cjs", receiverScript("cjs"));
      ctx.write("receiver.mjs", receiverScript("esm"));
    },
  },
  {
    name: 'type-check under moduleResolution "nodenext" (ESM and CJS)',
    run: typecheck("tsconfig.nodenext.json"),
  },
  { name: 'type-check under moduleResolution "bundler"', run: typecheck("tsconfig.bundler.json") },
  { name: 'type-check under moduleResolution "node10"', run: typecheck("tsconfig.node10.json") },
  { name: "Express receiver from the tarballs, CJS (require)", run: () => ctx.node("receiver.cjs") },
  { name: "Express receiver from the tarballs, ESM (import)", run: () => ctx.node("receiver.mjs") },
  {
    name: "the optare-webhooks command from the tarball",
    run: () =>
      ctx.exec(join(ctx.dir, "node_modules", ".bin", "optare-webhooks"), ["--help"], { timeoutMs: 30_000 }),
  },
  {
    name: "README quickstart, Express (packages/express/README.md): type-check and compile verbatim, no secret",
    run() {
      console.log("  tsc: strict, nodenext, no OPTARE_WEBHOOK_SECRET in the environment");
      ctx.write(
        "readme/express/server.mts",
        readmeBlock("packages/express/README.md", { section: "Quickstart" }),
      );
      ctx.write("readme/express/tsconfig.json", emitTsconfig(["server.mts"]));
      ctx.exec(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "readme/express"]);
    },
  },
  {
    name: "README quickstart, Express: runs; 500 + stderr line without the secret, handler failure logged with it",
    async run() {
      const url = (port) => `http://127.0.0.1:${port}/webhooks/optare`;
      let port = await freePort();
      const bare = ctx.serve(["readme/express/dist/server.mjs"], { extraEnv: { PORT: String(port) } });
      try {
        await bare.listening(port);
        const res = await ctx.deliver(url(port), ctx.event("user.created"));
        expect("no secret: signed user.created -> answer", answer(res), "500 invalid_configuration");
        await bare.stderrShows("stderr has the [optare-webhooks] line", NO_SECRET_LINE);
      } finally {
        await bare.stop();
      }

      port = await freePort();
      const crm = await freePort();
      const server = ctx.serve(["readme/express/dist/server.mjs"], {
        extraEnv: { PORT: String(port), OPTARE_WEBHOOK_SECRET: SECRET, CRM_URL: `http://127.0.0.1:${crm}` },
      });
      try {
        await server.listening(port);
        console.log(`  (nothing listens on ${crm}: the CRM is down)`);
        const deleted = ctx.event("user.deleted");
        const failed = await ctx.deliver(url(port), deleted);
        expect("user.deleted, CRM down -> answer", answer(failed), "500 handler_failed");
        await server.stderrShows(
          "stderr has the handler failure and its stack",
          handlerFailedLines(deleted.id),
        );
        const ok = await ctx.deliver(url(port), ctx.event("user.created"));
        expect("user.created -> answer", answer(ok), '200 {"received":true}');
      } finally {
        await server.stop();
      }
    },
  },
  {
    name: "README quickstarts, Request handler (README.md, packages/webhooks/README.md): type-check and compile verbatim",
    run() {
      console.log("  tsc: strict, nodenext, no OPTARE_WEBHOOK_SECRET in the environment");
      ctx.write("readme/core/root.mts", readmeBlock("README.md"));
      ctx.write(
        "readme/core/webhooks.mts",
        readmeBlock("packages/webhooks/README.md", { section: "Quickstart" }),
      );
      ctx.write("readme/core/harness.mts", harnessTs);
      ctx.write("readme/core/tsconfig.json", emitTsconfig(["root.mts", "webhooks.mts", "harness.mts"]));
      ctx.exec(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "readme/core"]);
    },
  },
  {
    name: "README quickstarts, Request handler: POST(request) without and with the secret, in a child process",
    async run() {
      await checkCoreQuickstart("root");
      await checkCoreQuickstart("webhooks");
    },
  },
  {
    name: "README quickstart, Next.js (packages/next/README.md): a new Next.js 16 app, npm install",
    run() {
      const next = "packages/next/README.md";
      const lib = readmeBlock(next, {
        section: "App Router (Node.js runtime)",
        firstLine: "// lib/webhooks.ts",
      });
      const route = readmeBlock(next, {
        section: "App Router (Node.js runtime)",
        firstLine: "// app/webhooks/optare/route.ts",
      });
      const pages = readmeBlock(next, {
        section: "Pages Router (API route)",
        firstLine: "// pages/api/webhooks/optare.ts",
      });
      const write = (file, content) => ctx.write(file, content, ctx.nextDir);
      write("package.json", `${JSON.stringify({ name: "fresh-next-app", private: true }, null, 2)}\n`);
      write("lib/webhooks.ts", lib);
      write("app/webhooks/optare/route.ts", route);
      write("pages/api/webhooks/optare.ts", pages);
      // As create-next-app writes it, with its `@/*` import alias.
      write(
        "tsconfig.json",
        `${JSON.stringify(
          {
            compilerOptions: {
              target: "ES2017",
              lib: ["dom", "dom.iterable", "esnext"],
              allowJs: true,
              skipLibCheck: true,
              strict: true,
              noEmit: true,
              esModuleInterop: true,
              module: "esnext",
              moduleResolution: "bundler",
              resolveJsonModule: true,
              isolatedModules: true,
              jsx: "react-jsx",
              incremental: true,
              plugins: [{ name: "next" }],
              paths: { "@/*": ["./*"] },
            },
            include: [
              "next-env.d.ts",
              "**/*.ts",
              "**/*.tsx",
              ".next/types/**/*.ts",
              ".next/dev/types/**/*.ts",
            ],
            exclude: ["node_modules"],
          },
          null,
          2,
        )}\n`,
      );
      // A one-off build gains nothing from writing Turbopack's persistent cache (~10 s on 2 cores).
      write(
        "next.config.mjs",
        "export default { experimental: { turbopackFileSystemCacheForBuild: false } };\n",
      );
      const registry = Object.entries(NEXT_DEPS).map(([name, version]) => `${name}@${version}`);
      ctx.exec(
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--no-update-notifier",
          "--loglevel=error",
          "--prefer-offline",
          ctx.tarballs["@optare/webhooks"],
          ctx.tarballs["@optare/webhooks-next"],
          ...registry,
        ],
        { cwd: ctx.nextDir, timeoutMs: 180_000 },
      );
    },
  },
  {
    name: "README quickstart, Next.js: `next build` with no OPTARE_WEBHOOK_SECRET",
    run() {
      ctx.exec(process.execPath, ["node_modules/next/dist/bin/next", "build"], {
        cwd: ctx.nextDir,
        timeoutMs: 240_000,
      });
    },
  },
  {
    name: "README quickstart, Next.js: `next start`; both routers log handler failures and share one receiver",
    async run() {
      const start = async (extraEnv) => {
        const port = await freePort();
        const server = ctx.serve(
          ["node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"],
          { cwd: ctx.nextDir, extraEnv },
        );
        return { server, port, url: (path) => `http://127.0.0.1:${port}${path}` };
      };
      const app = "/webhooks/optare";
      const pages = "/api/webhooks/optare";

      const bare = await start({});
      try {
        await bare.server.listening(bare.port, 60_000);
        const res = await ctx.deliver(bare.url(app), ctx.event("user.created"));
        expect(
          `no secret: signed user.created to ${app} -> answer`,
          answer(res),
          "500 invalid_configuration",
        );
        await bare.server.stderrShows("stderr has the [optare-webhooks] line", NO_SECRET_LINE);
      } finally {
        await bare.server.stop();
      }

      const crm = await freePort();
      const { server, port, url } = await start({
        OPTARE_WEBHOOK_SECRET: SECRET,
        CRM_URL: `http://127.0.0.1:${crm}`,
      });
      try {
        await server.listening(port, 60_000);
        console.log(`  (nothing listens on ${crm}: the CRM is down)`);
        for (const path of [app, pages]) {
          const deleted = ctx.event("user.deleted");
          const failed = await ctx.deliver(url(path), deleted);
          expect(`user.deleted to ${path}, CRM down -> answer`, answer(failed), "500 handler_failed");
          await server.stderrShows(
            `stderr has its handler failure and stack`,
            handlerFailedLines(deleted.id),
          );
        }
        const created = await ctx.deliver(url(app), ctx.event("user.created"));
        expect(`user.created to ${app} -> answer`, answer(created), '200 {"received":true}');
        const again = await fetch(url(pages), { method: "POST", ...created.request });
        const duplicate = { status: again.status, body: await again.text() };
        expect(
          `the same delivery to ${pages} -> answer (one receiver for both routers)`,
          answer(duplicate),
          '200 {"received":true,"duplicate":true}',
        );
      } finally {
        await server.stop();
      }
    },
  },
];

// ── the runner ───────────────────────────────────────────────────────────────────────────────────────

const temp = mkdtempSync(join(tmpdir(), "optare-fresh-"));
ctx.dir = join(temp, "project");
ctx.nextDir = join(temp, "next-app");
mkdirSync(ctx.dir);
console.log(`fresh-project: a new npm project in ${ctx.dir}`);
const started = performance.now();
let failure;
for (const step of steps) {
  console.log(`\n▶ ${step.name}`);
  const t0 = performance.now();
  try {
    await step.run(ctx);
  } catch (error) {
    failure = { step: step.name, error };
    break;
  }
  console.log(`✓ ${step.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
for (const server of running) await server.stop();
if (process.env.FRESH_KEEP) console.log(`\nfresh-project: kept ${temp}`);
else rmSync(temp, { recursive: true, force: true });
const total = `${((performance.now() - started) / 1000).toFixed(1)} s`;
if (failure) {
  console.error(
    `\n✗ fresh-project: "${failure.step}" failed after ${total}: ${failure.error?.message ?? failure.error}`,
  );
  process.exitCode = 1;
} else {
  console.log(`\nfresh-project: all ${steps.length} steps passed in ${total}`);
}

// The inspector's HTTP server (node:http): the guard on every request, the page's three static files,
// then the mode's routes ("GET /api/state", …) or its fallback (capture mode's receiving URL). Errors are
// `InspectorError`s answered as JSON with their status; anything else is a 500 `internal_error`, never a crash.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InspectorError } from "./errors";
import { allowedHosts, refusal } from "./guard";
import { SECURITY_HEADERS, sendError } from "./http";

export type Route = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface InspectorServerOptions {
  /** 0 for any free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** By "METHOD /path", e.g. "POST /api/send". */
  routes: Record<string, Route>;
  /** Requests no route or page file matches (capture mode receives there); default 404. */
  fallback?: Route;
  /** Told about unexpected errors (they are answered 500). */
  onError?: (error: unknown) => void;
}

export interface InspectorServer {
  /** The page's URL, e.g. http://127.0.0.1:3900/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

const ASSETS = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/inspector.js": ["inspector.js", "text/javascript; charset=utf-8"],
  "/inspector.css": ["inspector.css", "text/css; charset=utf-8"],
} as const;

/** The page's files: packages/testing/inspector/, one level above dist/cli.js and two above this file. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const candidates = ["../inspector/", "../../inspector/"].map((up) =>
    fileURLToPath(new URL(up, import.meta.url)),
  );
  for (const dir of candidates) {
    try {
      const entries = Object.entries(ASSETS).map(([path, [file, type]]) => {
        return [path, { type, body: readFileSync(join(dir, file)) }] as const;
      });
      return new Map(entries);
    } catch {}
  }
  throw new Error(`The inspector page's files are missing (looked in ${candidates.join(", ")}).`);
}

export async function startInspectorServer(options: InspectorServerOptions): Promise<InspectorServer> {
  const host = options.host ?? "127.0.0.1";
  const assets = loadAssets();
  let hosts = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req, hosts);
    if (refused !== null) throw refused;
    const path = new URL(req.url ?? "/", "http://inspector").pathname;
    const asset = req.method === "GET" ? assets.get(path) : undefined;
    if (asset !== undefined) {
      res.writeHead(200, { ...SECURITY_HEADERS, "content-type": asset.type, "cache-control": "no-cache" });
      res.end(asset.body);
      return;
    }
    const route =
      options.routes[`${req.method} ${path}`] ?? (path.startsWith("/api/") ? undefined : options.fallback);
    if (route !== undefined) {
      await route(req, res);
      return;
    }
    const known = Object.keys(options.routes).some((key) => key.endsWith(` ${path}`)) || assets.has(path);
    throw known
      ? new InspectorError("method_not_allowed", `${req.method} is not allowed on ${path}.`)
      : new InspectorError("not_found", `Nothing at ${path}.`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!(error instanceof InspectorError)) options.onError?.(error);
      if (res.headersSent) return void res.end();
      req.resume();
      sendError(
        res,
        error instanceof InspectorError ? error : new InspectorError("internal_error", String(error)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new InspectorError(
              "port_in_use",
              `Port ${options.port} on ${host} is already in use: pass another --port (--port 0 picks a free one).`,
            )
          : new InspectorError("listen_failed", `Cannot listen on ${host}:${options.port}: ${error.message}`),
      );
    });
    server.listen(options.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(host, port);
  return {
    url: `http://${[...hosts][0]}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

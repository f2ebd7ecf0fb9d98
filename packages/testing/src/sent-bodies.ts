// What `optare-webhooks trigger` sent, kept by event id under the OS temp directory, so that triggering
// the same --id again resends the very same bytes: a true duplicate, as Optare's retries are.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SentBody {
  id: string;
  /** The event type. */
  event: string;
  /** The exact body bytes, as sent. */
  body: string;
  /** When it was first sent (ISO-8601). */
  sentAt: string;
}

/** Stored bodies older than this are removed when another is stored. */
const KEEP_MS = 7 * 24 * 60 * 60 * 1000;

export function sentBodiesDirectory(): string {
  return join(tmpdir(), "optare-webhooks", "sent");
}

function fileOf(id: string): string {
  return join(sentBodiesDirectory(), `${createHash("sha256").update(id).digest("hex").slice(0, 32)}.json`);
}

/** The body last sent under `id`, if it is still kept. */
export async function loadSentBody(id: string): Promise<SentBody | undefined> {
  let stored: Partial<SentBody>;
  try {
    stored = JSON.parse(await readFile(fileOf(id), "utf8"));
  } catch {
    return undefined;
  }
  const valid = stored.id === id && typeof stored.body === "string" && typeof stored.event === "string";
  return valid ? (stored as SentBody) : undefined;
}

export async function saveSentBody(sent: SentBody): Promise<void> {
  const directory = sentBodiesDirectory();
  await mkdir(directory, { recursive: true });
  const file = fileOf(sent.id);
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, JSON.stringify(sent));
  await rename(partial, file);
  await pruneOld(directory);
}

async function pruneOld(directory: string): Promise<void> {
  const names = (await readdir(directory).catch(() => [])).slice(0, 1000);
  const now = Date.now();
  for (const name of names) {
    const path = join(directory, name);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > KEEP_MS) await rm(path, { force: true });
  }
}

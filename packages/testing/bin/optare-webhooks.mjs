#!/usr/bin/env node
// The `optare-webhooks` command. It lives outside dist/ so that installing a fresh clone of the
// repository can link it before anything is built; the CLI itself is dist/cli.js, which runs on import.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

try {
  await import(new URL("../dist/cli.js", import.meta.url).href);
} catch (error) {
  // Only the CLI's own file missing means "not built"; a module missing inside it is a real error.
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || existsSync(cli)) throw error;
  process.stderr.write(
    `optare-webhooks: ${cli} is missing: not built yet. In the repository, run \`pnpm build\`.\n`,
  );
  process.exit(1);
}

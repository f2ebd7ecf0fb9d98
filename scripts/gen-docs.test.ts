import { readFileSync } from "node:fs";
import { catalog, EVENT_TYPES } from "@optare/webhooks";
import { fixtures } from "@optare/webhooks-testing";
import { describe, expect, it } from "vitest";
import {
  EVENTS_DOC,
  normalizeMarkdown,
  README,
  renderEventsDoc,
  renderEventTable,
  SHARED_OBJECTS,
  SNIPPET_DOCS,
  snippetPaths,
  updateReadme,
  updateSnippets,
} from "./gen-docs";

describe("the catalog", () => {
  it("has the 27 event types of the spec, 25 published and 2 added by the SDK", () => {
    expect(EVENT_TYPES).toHaveLength(27);
    expect(EVENT_TYPES.filter((type) => !catalog[type].published).sort()).toEqual([
      "member.invitation.revoked",
      "oauth.authorization.revoked",
    ]);
  });

  it("has a fixture for every event type that its schema accepts", () => {
    expect(Object.keys(fixtures).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) expect(catalog[type].data.safeParse(fixtures[type]).success).toBe(true);
  });

  it("is what the README's event table says (run `pnpm gen` after changing the catalog)", () => {
    // Compared modulo table alignment, so a markdown formatter may pad the columns.
    const readme = readFileSync(README, "utf8");
    expect(normalizeMarkdown(readme)).toBe(normalizeMarkdown(updateReadme(readme)));
    for (const type of EVENT_TYPES) expect(renderEventTable()).toContain(`\`${type}\``);
  });
});

describe("docs/events.md", () => {
  const doc = renderEventsDoc();

  it("is up to date with the catalog and the fixtures (run `pnpm gen` after changing either)", () => {
    expect(normalizeMarkdown(readFileSync(EVENTS_DOC, "utf8"))).toBe(normalizeMarkdown(doc));
  });

  it("has a section per event type, with its data fields and its fixture as the example", () => {
    for (const type of EVENT_TYPES) {
      const section = doc.slice(doc.indexOf(`### \`${type}\``)).split(/\n### /)[0]!;
      expect(section).toContain(catalog[type].description);
      for (const field of Object.keys(catalog[type].data.shape))
        expect(section).toContain(`| \`${field}\` |`);
      expect(section).toContain(JSON.stringify(fixtures[type], null, 2));
      expect(section.includes("**Added by the SDK**")).toBe(!catalog[type].published);
    }
  });

  it("documents every field of the ten shared objects, with its type and whether it is required", () => {
    expect(Object.keys(SHARED_OBJECTS)).toHaveLength(10);
    for (const [name, schema] of Object.entries(SHARED_OBJECTS)) {
      const section = doc.slice(doc.indexOf(`\n### ${name}\n`)).split(/\n### /)[1]!;
      for (const field of Object.keys(schema._zod.def.shape ?? {})) {
        expect(section).toMatch(
          new RegExp(`\\| \`${field}\` \\| [^|]+(\\\\\\| null)? \\| (required|optional) \\|`),
        );
      }
    }
    expect(doc).toContain("| `name` | string \\| null | required |"); // User.name
    expect(doc).toContain("| `redirectUris` | string[] | required |");
    expect(doc).toContain("| `previous` | partial [User](#user) | optional |");
    expect(doc).toContain("| `user` | [UserRef](#userref) \\| null | required |"); // oauth.token.issued
  });
});

describe("the guides' code blocks", () => {
  it("are copies of the runnable files they name (run `pnpm gen` after editing one)", () => {
    for (const file of SNIPPET_DOCS) {
      const text = readFileSync(file, "utf8");
      expect(snippetPaths(text).length).toBeGreaterThan(0);
      expect(text).toBe(updateSnippets(text));
    }
  });

  it("include the testing guide's example, which runs in this test suite", () => {
    const guide = readFileSync(new URL("../docs/testing-handlers.md", import.meta.url), "utf8");
    expect(snippetPaths(guide)).toContain("docs/examples/testing-handlers.test.ts");
  });
});

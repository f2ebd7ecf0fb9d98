import { readFileSync } from "node:fs";
import { catalog, EVENT_TYPES } from "@optare/webhooks";
import { fixtures } from "@optare/webhooks-testing";
import { describe, expect, it } from "vitest";
import { README, renderEventTable, updateReadme } from "./gen-docs";

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
    const normalize = (text: string) => text.replace(/ *\| */g, "|").replace(/-{3,}/g, "---");
    const readme = readFileSync(README, "utf8");
    expect(normalize(readme)).toBe(normalize(updateReadme(readme)));
    for (const type of EVENT_TYPES) expect(renderEventTable()).toContain(`\`${type}\``);
  });
});

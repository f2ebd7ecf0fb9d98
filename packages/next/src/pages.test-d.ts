import { createWebhooks } from "@optare/webhooks";
import { createRouteHandler } from "@optare/webhooks-next";
import { createPagesHandler } from "@optare/webhooks-next/pages";
import type { NextApiHandler } from "next";
import type { NextRequest } from "next/server";
import { expectTypeOf, test } from "vitest";

const webhooks = createWebhooks({ secret: "s".repeat(64) });

test("createPagesHandler is a Pages Router API route (NextApiHandler)", () => {
  expectTypeOf(createPagesHandler(webhooks)).toExtend<NextApiHandler>();
});

test("createRouteHandler accepts the NextRequest an App Router route receives", () => {
  expectTypeOf(createRouteHandler(webhooks)).toBeCallableWith({} as NextRequest);
  expectTypeOf(createRouteHandler(webhooks)).returns.toEqualTypeOf<Promise<Response>>();
});

test("the adapters take the receiver, not a bare function", () => {
  // @ts-expect-error: pass the `webhooks` object, whose `handle` makes the HTTP decisions
  createRouteHandler(webhooks.handle);
  // @ts-expect-error: same for the Pages Router, which calls `webhooks.receive`
  createPagesHandler(webhooks.handle);
});

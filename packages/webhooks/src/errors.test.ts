import { describe, expect, it } from "vitest";
import { ERROR_STATUS, isWebhookError, WebhookError } from "./errors";

describe("WebhookError", () => {
  it("takes its status from the one table", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      const error = new WebhookError(code as keyof typeof ERROR_STATUS, "m");
      expect(error.status).toBe(status);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe("WebhookError");
    }
  });

  it("is recognised by its marker, even from another copy of the package", () => {
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("@optare/webhooks/error")]: true,
      code: "x",
    });
    expect(isWebhookError(foreign)).toBe(true);
    expect(isWebhookError(new Error("x"))).toBe(false);
    expect(isWebhookError(null)).toBe(false);
    expect(isWebhookError("invalid_json")).toBe(false);
  });

  it("keeps the cause", () => {
    const cause = new Error("ECONNREFUSED");
    expect(new WebhookError("store_unavailable", "down", { cause }).cause).toBe(cause);
  });
});

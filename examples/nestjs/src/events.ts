import { Controller, Get, Inject, Injectable, type OnModuleInit } from "@nestjs/common";
import type { Webhooks } from "@optare/webhooks";
import { OPTARE_WEBHOOKS } from "@optare/webhooks-nestjs";

/** How many processed ids `GET /events` lists. */
export const KEEP = 1000;

/** Registers the handlers on the module's `webhooks` and keeps the ids they processed, newest first. */
@Injectable()
export class EventsService implements OnModuleInit {
  readonly processed: string[] = [];

  // Explicit @Inject everywhere: the app also works when built by esbuild/tsup (no decorator metadata).
  constructor(@Inject(OPTARE_WEBHOOKS) private readonly webhooks: Webhooks) {}

  onModuleInit(): void {
    this.webhooks.on("user.created", (event) => {
      // `event.data` is typed by the event: here `{ user: User }`.
      console.log(`welcome ${event.data.user.email}`);
    });
    this.webhooks.onAny((event) => {
      this.processed.unshift(event.id);
      if (this.processed.length > KEEP) this.processed.pop();
    });
  }
}

@Controller()
export class EventsController {
  constructor(@Inject(EventsService) private readonly events: EventsService) {}

  /** The ids of the events the handlers processed, newest first. */
  @Get("events")
  list(): string[] {
    return this.events.processed;
  }
}

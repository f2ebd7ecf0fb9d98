import { Module } from "@nestjs/common";
import { createWebhooks } from "@optare/webhooks";
import { OptareWebhooksModule } from "@optare/webhooks-nestjs";
import { EventsController, EventsService } from "./events.js";

/** The webhook route (the module's default). */
export const WEBHOOK_PATH = "/webhooks/optare";

@Module({
  imports: [
    OptareWebhooksModule.forRoot({
      // Read on the first request: starting the app needs no secret; a missing one is a logged 500.
      webhooks: createWebhooks({ secret: () => process.env.OPTARE_WEBHOOK_SECRET }),
      path: WEBHOOK_PATH,
    }),
  ],
  controllers: [EventsController],
  providers: [EventsService],
})
export class AppModule {}

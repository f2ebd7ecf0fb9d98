import { reactRouter } from "@react-router/dev/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [reactRouter()],
  // Vite bundles workspace-linked packages into the server build; load them from node_modules
  // instead, as an app that installed them from npm does.
  ssr: { external: ["@optare/webhooks", "@optare/webhooks-remix"] },
});

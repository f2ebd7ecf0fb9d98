import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  // Resource routes (no default export): they answer with the Response their loader/action returns.
  route("webhooks/optare", "routes/webhooks.optare.ts"),
  route("events", "routes/events.ts"),
] satisfies RouteConfig;

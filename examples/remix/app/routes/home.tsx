export default function Home() {
  return (
    <main>
      <h1>Optare webhooks receiver</h1>
      <p>
        Optare delivers to <code>POST /webhooks/optare</code>; <a href="/events">/events</a> lists the event
        ids processed so far, newest first.
      </p>
    </main>
  );
}

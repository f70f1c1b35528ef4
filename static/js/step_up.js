// Step-up before a reveal or an unmasked export: the server refuses them without a recent
// authenticator code, so once the code has gone stale a click on "Reveal" (`.js-reveal`) or
// on an unmasked export link (`.js-step-up`) goes to the step-up page instead, and the
// step-up page brings the user back here to click again. The server's check is the one
// that counts.
(() => {
  const url = document.body.dataset.stepUpUrl;
  if (!url) return;
  const marginMs = 5000; // stale a little early rather than let a reveal fail silently
  const freshUntil = Date.now() + Number(document.body.dataset.stepUpLeft || 0) * 1000 - marginMs;
  document.addEventListener(
    "click",
    (event) => {
      if (!event.target.closest(".js-reveal, .js-step-up") || Date.now() < freshUntil) return;
      event.preventDefault();
      event.stopPropagation(); // before app.js sends the reveal
      const next = window.location.pathname + window.location.search;
      window.location.assign(`${url}?next=${encodeURIComponent(next)}`);
    },
    true,
  );
})();

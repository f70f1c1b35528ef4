// Site-wide behaviour, kept out of the templates so the CSP can forbid inline scripts.
document.addEventListener("change", (event) => {
  if (event.target.matches(".js-autosubmit")) {
    event.target.form.submit();
  }
});

// Reveal a masked field: an audited POST; the full value replaces the mask in place.
document.addEventListener("click", async (event) => {
  const button = event.target.closest(".js-reveal");
  if (!button) return;
  const token = document.querySelector("input[name=csrfmiddlewaretoken]");
  const response = await fetch(button.dataset.url, {
    method: "POST",
    headers: { "X-CSRFToken": token ? token.value : "" },
    credentials: "same-origin",
  });
  if (response.ok) {
    document.querySelector(button.dataset.target).textContent = await response.text();
    button.remove();
  } else if (response.status === 403 && document.body.dataset.stepUpUrl) {
    // The code went stale while the page was open: step up, then come back here.
    const next = window.location.pathname + window.location.search;
    window.location.assign(`${document.body.dataset.stepUpUrl}?next=${encodeURIComponent(next)}`);
  }
});

// Behaviour of the interaction pages, kept out of the templates so the CSP can forbid
// inline scripts. Data comes from json_script elements.

// Global "log visit": search as you type (after a short pause), without a page of JS.
(() => {
  const input = document.querySelector(".js-live-search");
  if (!input) return;
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    if (input.value.trim().length < 2) return;
    timer = setTimeout(() => input.form.requestSubmit(), 400);
  });
  // Keep the caret at the end after the page reloads with the query.
  input.setSelectionRange(input.value.length, input.value.length);
})();

// Branch head's service page: the satisfaction trend per quarter.
(() => {
  const canvas = document.getElementById("satisfaction-chart");
  const source = document.getElementById("satisfaction-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{ label: canvas.getAttribute("aria-label"), data: data.scores, tension: 0.2 }],
    },
    options: {
      maintainAspectRatio: false,
      scales: { y: { min: 1, max: 5 } },
      plugins: { legend: { display: false } },
    },
  });
})();

// Today page: every reminder's snooze menu, from the one list of presets the page renders
// (`#snooze-presets`), each button aimed at its reminder; they post through the page's one
// form (#reminder-action), so the server renders neither a form nor a menu per row.
(() => {
  const presets = document.getElementById("snooze-presets");
  if (!presets) return;
  for (const menu of document.querySelectorAll(".js-snooze-menu")) {
    const url = menu.previousElementSibling.dataset.snoozeUrl;
    menu.append(presets.content.cloneNode(true));
    for (const button of menu.querySelectorAll("button")) button.formAction = url;
  }
})();

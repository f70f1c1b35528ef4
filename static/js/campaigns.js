// Campaign pages: the plan board's drag-to-advance, select-all boxes, and the charts.
// Kept out of the templates so the CSP can forbid inline scripts.
(() => {
  // Select-all: a header box ticks every box of the same name in its form or page.
  document.addEventListener("change", (event) => {
    const box = event.target.closest(".js-select-all");
    if (!box) return;
    document.querySelectorAll(`input[type=checkbox][name="${box.dataset.target}"]`).forEach((item) => {
      item.checked = box.checked;
    });
  });

  // Board: drop a card on the next column to advance it (the same POST as its button).
  const board = document.querySelector("[data-testid=plan-board]");
  if (board) {
    let dragged = null;
    board.addEventListener("dragstart", (event) => {
      dragged = event.target.closest(".kanban-card");
      if (dragged) event.dataTransfer.setData("text/plain", dragged.dataset.plan);
    });
    board.addEventListener("dragover", (event) => {
      if (event.target.closest(".kanban-column")) event.preventDefault();
    });
    board.addEventListener("drop", (event) => {
      const column = event.target.closest(".kanban-column");
      if (!column || !dragged) return;
      event.preventDefault();
      const from = Number(dragged.dataset.step);
      const to = Number(column.dataset.step);
      if (to === from) return;
      if (to !== from + 1) {
        window.alert(board.dataset.advanceError);
        return;
      }
      const token = document.querySelector("input[name=csrfmiddlewaretoken]");
      const form = document.createElement("form");
      form.method = "post";
      form.action = dragged.dataset.advanceUrl;
      for (const [name, value] of [["csrfmiddlewaretoken", token ? token.value : ""], ["from", "board"]]) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
      }
      document.body.appendChild(form);
      form.submit();
    });
  }

  if (typeof Chart === "undefined") return;
  const read = (id) => {
    const source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  };

  const funnel = read("funnel-data");
  const funnelCanvas = document.getElementById("funnel-chart");
  if (funnel && funnelCanvas) {
    new Chart(funnelCanvas, {
      type: "bar",
      data: { labels: funnel.labels, datasets: [{ label: funnel.reachedLabel, data: funnel.reached, backgroundColor: "#0d6efd" }] },
      options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  const report = read("campaign-report-data");
  const statusCanvas = document.getElementById("campaign-status-chart");
  if (report && statusCanvas) {
    new Chart(statusCanvas, {
      type: "bar",
      data: { labels: report.statusLabels, datasets: [{ label: report.statusLabel, data: report.statusCounts, backgroundColor: "#198754" }] },
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
  const aumCanvas = document.getElementById("campaign-aum-chart");
  if (report && aumCanvas) {
    new Chart(aumCanvas, {
      type: "bar",
      data: {
        labels: report.aumLabels,
        datasets: [
          { label: report.beforeLabel, data: report.aumBefore, backgroundColor: "#adb5bd" },
          { label: report.afterLabel, data: report.aumAfter, backgroundColor: "#0d6efd" },
        ],
      },
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    });
  }
})();

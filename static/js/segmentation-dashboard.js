// Draws the tier dashboard's charts from its JSON endpoint (labels arrive translated).
// Clicking a bar or a point opens the customer list filtered the same way as the table cell.
(() => {
  const root = document.getElementById("segmentation-dashboard");
  if (!root || typeof Chart === "undefined") return;
  const listUrl = root.dataset.listUrl;
  const tierColours = { value: "#0d6efd", sub_value: "#6610f2", potential: "#198754", low_value: "#adb5bd", "": "#dee2e6" };
  const palette = ["#0d6efd", "#6610f2", "#198754", "#fd7e14", "#dc3545", "#20c997"];
  const open = (params) => { window.location.href = `${listUrl}?${new URLSearchParams(params)}`; };
  const percent = (value) => `${Math.round(value * 100)}%`;

  const draw = (id, config, onPick) => {
    const canvas = document.getElementById(`${id}-chart`);
    if (!canvas) return;
    config.options = {
      responsive: true,
      maintainAspectRatio: false,
      ...config.options,
      onClick: (event, elements) => {
        if (onPick && elements.length) onPick(elements[0].datasetIndex, elements[0].index);
      },
    };
    new Chart(canvas, config);
  };

  const stackedByTier = (id, entries, tiers, param) => draw(id, {
    type: "bar",
    data: {
      labels: entries.map((entry) => entry.name),
      datasets: tiers.map((tier) => ({
        label: tier.label,
        backgroundColor: tierColours[tier.tier],
        data: entries.map((entry) => entry.counts[tier.tier] || 0),
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  }, (set, index) => {
    if (entries[index].id) open({ [param]: entries[index].id, value_tier: tiers[set].tier });
  });

  const matrix = (id, data, rowParam, columnParam, horizontal) => draw(id, {
    type: "bar",
    data: {
      labels: data.rows.map((row) => row.label),
      datasets: data.columns.map((column, columnIndex) => ({
        label: column.label,
        backgroundColor: tierColours[column.value] || palette[columnIndex % palette.length],
        data: data.rows.map((row) => row.cells[columnIndex].customers || 0),
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  }, (set, index) => {
    const row = data.rows[index];
    if (row.value) open({ [rowParam]: row.value, [columnParam]: data.columns[set].value });
  });

  fetch(root.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((data) => {
      const pareto = data.pareto;
      const target = pareto.customers_share_at_target;
      draw("pareto", {
        type: "scatter",
        data: {
          datasets: [
            {
              label: document.getElementById("pareto-chart").getAttribute("aria-label"),
              data: pareto.points.map((point) => ({ x: point.customers, y: point.contribution })),
              showLine: true,
              pointRadius: 0,
              borderColor: "#0d6efd",
            },
            {
              label: "80/20",
              data: target === null ? [] : [{ x: target, y: pareto.target }],
              pointRadius: 6,
              backgroundColor: "#dc3545",
            },
          ],
        },
        options: {
          scales: {
            x: { min: 0, max: 1, ticks: { callback: percent } },
            y: { beginAtZero: true, ticks: { callback: percent } },
          },
        },
      }, () => open({ abc_class: "A" }));
      stackedByTier("branches", data.branches, data.tiers, "branch");
      stackedByTier("managers", data.managers, data.tiers, "relationship_manager");
      matrix("migration", data.migration, "previous_tier", "value_tier", false);
      matrix("abc_quadrant", data.abc_quadrant, "abc_class", "quadrant", false);
      draw("wealth", {
        type: "bar",
        data: {
          labels: data.wealth.map((row) => row.label),
          datasets: [{ label: "", backgroundColor: "#198754", data: data.wealth.map((row) => row.customers) }],
        },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      }, (set, index) => open({ wealth_level: data.wealth[index].level }));
    })
    .catch(() => root.classList.add("charts-unavailable"));
})();

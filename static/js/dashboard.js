// Draws the tier-by-RM stacked bar chart from the JSON the page embeds (labels come translated).
(() => {
  const source = document.getElementById("tier-by-rm-data");
  const canvas = document.getElementById("tier-by-rm-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = { value: "#0d6efd", sub_value: "#6610f2", potential: "#198754", low_value: "#adb5bd", "": "#dee2e6" };
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map((set) => ({ ...set, backgroundColor: colours[set.tier] || "#999" })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();

// The split form: add / remove parts, and keep the running sum beside its limit
// (1 for a ratio split, the package size for a head-count split).

const form = document.getElementById("split-form");

if (form) {
  const rows = document.getElementById("split-rows");
  const template = document.getElementById("split-row-template");
  const sum = document.getElementById("split-sum");
  const limit = document.getElementById("split-limit");
  const line = document.getElementById("split-sum-line");

  const splitType = () => form.querySelector("input[name=split_type]:checked")?.value || "0";

  const update = () => {
    const byCount = splitType() === "1";
    const cap = byCount ? Number(form.dataset.size || 0) : 1;
    let total = 0;
    for (const input of rows.querySelectorAll("input[name=part_value]")) {
      const value = Number(input.value);
      if (input.value !== "" && Number.isFinite(value)) total += value;
      input.step = byCount ? "1" : "any";
      input.max = byCount ? String(cap) : "1";
    }
    // Rounding keeps 0.1 + 0.2 from showing as 0.30000000000000004.
    sum.textContent = String(Math.round(total * 1e6) / 1e6);
    limit.textContent = byCount ? String(cap) : "1";
    const over = total > cap + 1e-9;
    line.classList.toggle("over", over);
    sum.setAttribute("aria-invalid", over ? "true" : "false");
  };

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  document.getElementById("split-add").addEventListener("click", () => {
    rows.append(template.content.cloneNode(true));
    rows.querySelector(".split-row:last-of-type input")?.focus();
    update();
  });
  rows.addEventListener("click", (event) => {
    const button = event.target.closest(".split-remove");
    if (!button) return;
    const row = button.closest("tr");
    const errors = row.nextElementSibling;
    if (errors && errors.classList.contains("row-errors")) errors.remove();
    row.remove();
    update();
  });
  // The size arrives with the live status when the package finishes generating.
  document.addEventListener("instance:update", (event) => {
    if (event.detail.package_size !== null && event.detail.package_size !== undefined) {
      form.dataset.size = String(event.detail.package_size);
      update();
    }
  });
  update();
}

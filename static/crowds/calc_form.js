// The calc form: the excluded packages only matter for a difference.
const form = document.getElementById("calc-form");

if (form) {
  const update = () => {
    const operation = form.querySelector("input[name=operation]:checked")?.value || "union";
    for (const node of form.querySelectorAll("[data-when-operation]")) {
      node.hidden = !node.dataset.whenOperation.split(" ").includes(operation);
    }
  };
  form.addEventListener("change", update);
  update();
}

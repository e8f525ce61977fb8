// The WeChat campaign form: show what the chosen message type, template and audience
// need; page through the account's news without leaving the form (the server renders
// each page, `data-news-url`), and take the picked article's title.

const form = document.getElementById("wechat-form");

function checkedValue(name) {
  const input = form.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : "";
}

function update() {
  const type = checkedValue("activity_type");
  for (const node of form.querySelectorAll("[data-show-for-type]")) {
    node.hidden = node.dataset.showForType !== type;
  }
  const pack = checkedValue("pack_type");
  for (const node of form.querySelectorAll("[data-show-for-pack]")) {
    node.hidden = node.dataset.showForPack !== pack;
  }
  const template = form.querySelector("#id_template_id").value;
  for (const node of form.querySelectorAll(".template-data")) {
    node.hidden = node.dataset.templateId !== template;
  }
}

function paintSwatch(input) {
  const swatch = input.parentElement.querySelector(".swatch");
  if (!swatch) return;
  const ok = /^#[0-9A-Fa-f]{6}$/.test(input.value);
  swatch.style.background = ok ? input.value : "transparent";
  swatch.hidden = !ok;
}

async function loadNews(offset) {
  const picker = document.getElementById("news-picker");
  const chosen = picker.querySelector('input[name="media_id"]:checked');
  const query = new URLSearchParams({ offset: String(offset) });
  if (chosen) {
    query.set("selected", chosen.value);
    query.set("selected_title", chosen.dataset.title || "");
  }
  picker.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(`${form.dataset.newsUrl}?${query}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    picker.innerHTML = await response.text();
    document.getElementById("news-offset").value = String(offset);
  } catch {
    window.location.search = `?news_offset=${offset}`; // let the server render it
  } finally {
    picker.removeAttribute("aria-busy");
  }
}

if (form) {
  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.name === "media_id" && target.checked) {
      const title = document.getElementById("id_media_title");
      if (title && target.dataset.title) title.value = target.dataset.title;
    }
    update();
  });
  form.addEventListener("input", (event) => {
    if (event.target.name && event.target.name.endsWith("-color")) paintSwatch(event.target);
  });
  form.addEventListener("click", (event) => {
    const link = event.target.closest(".news-pager a[data-offset]");
    if (!link) return;
    event.preventDefault();
    loadNews(Number(link.dataset.offset));
  });
  for (const input of form.querySelectorAll('input[name$="-color"]')) paintSwatch(input);
  update();
}

// Client-side filter of the tag catalog page: a row stays when its code, description or
// one of its values contains every word typed.
const input = document.getElementById("tag-search");

if (input) {
  const rows = [...document.querySelectorAll(".tag-row")];
  const groups = [...document.querySelectorAll(".tag-group")];
  const empty = document.getElementById("tag-search-empty");
  const count = document.getElementById("tag-search-count");
  const haystacks = new Map(rows.map((row) => [row, row.textContent.toLowerCase()]));

  const filter = () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of rows) {
      const text = haystacks.get(row);
      row.hidden = !words.every((word) => text.includes(word));
      if (!row.hidden) shown += 1;
    }
    for (const group of groups) group.hidden = !group.querySelector(".tag-row:not([hidden])");
    empty.hidden = shown > 0;
    count.textContent = words.length ? `${shown} / ${rows.length}` : "";
  };
  input.addEventListener("input", filter);
  filter();
}

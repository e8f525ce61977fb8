// The activity form: the schedule is asked only for a periodic activity (the spec's
// start_type_remark), and is then required.

const form = document.getElementById("activity-form");
const schedule = document.getElementById("field-start_type_remark");

function update() {
  const checked = form.querySelector('input[name="start_type"]:checked');
  const periodic = checked && checked.value === "2";
  schedule.hidden = !periodic;
  const input = schedule.querySelector("textarea");
  input.required = periodic;
}

if (form && schedule) {
  for (const radio of form.querySelectorAll('input[name="start_type"]')) {
    radio.addEventListener("change", update);
  }
  update();
}

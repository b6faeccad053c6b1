// Clickar: with JavaScript the custom plan re-prices on change (htmx), so the no-JS button hides,
// and editing a custom coverage selects 「カスタマイズ」.
document.documentElement.classList.add("js");
document.addEventListener("change", (event) => {
  const fields = event.target.closest(".custom-fields");
  if (!fields) return;
  const radio = document.getElementById("plan-custom");
  if (radio) radio.checked = true;
});

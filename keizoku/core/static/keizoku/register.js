// Registration enhancements; every one of them also works without JavaScript on the server.
(function () {
  "use strict";

  // 【次へ】 stays disabled until 【同意する】 is ticked (the server refuses it anyway).
  document.querySelectorAll("[data-requires-check]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-requires-check"));
    if (!box) return;
    var sync = function () { button.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  // 「追加」 shows the next 旧証券番号 field without a round trip.
  var add = document.getElementById("add-policy");
  var count = document.getElementById("id_policy_count");
  if (add && count) {
    add.addEventListener("click", function (event) {
      var hidden = document.querySelectorAll(".policy-field[hidden]");
      if (!hidden.length) return;
      event.preventDefault();
      hidden[0].hidden = false;
      count.value = String(Number(count.value) + 1);
      var input = hidden[0].querySelector("input");
      if (input) input.focus();
      if (hidden.length === 1) add.hidden = true;
    });
  }

  // Move focus to the error summary so that screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();

/* 「AIチャット」: the disclosure button, focus handling and the log around htmx's POST. */
(function () {
  "use strict";
  var root = document.querySelector("[data-chat]");
  if (!root) return;
  var fallback = root.querySelector("[data-chat-fallback]");
  var toggle = root.querySelector("[data-chat-toggle]");
  var panel = root.querySelector("[data-chat-panel]");
  var close = root.querySelector("[data-chat-close]");
  var form = root.querySelector("[data-chat-form]");
  var log = root.querySelector("[data-chat-log]");
  var input = form.querySelector("input[name=question]");
  var send = form.querySelector("button[type=submit]");
  if (!window.htmx) return; // without htmx the link to the full page stays

  // With JavaScript the link to /chat/ becomes a button that opens the panel in place.
  fallback.hidden = true;
  toggle.hidden = false;

  function setOpen(open) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) input.focus(); else toggle.focus();
  }
  toggle.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) { event.preventDefault(); setOpen(false); }
  });

  form.addEventListener("htmx:beforeRequest", function () {
    send.disabled = true;
    form.setAttribute("aria-busy", "true");
  });
  form.addEventListener("htmx:afterRequest", function (event) {
    send.disabled = false;
    form.removeAttribute("aria-busy");
    if (event.detail.successful) input.value = "";
    input.focus();
  });
  form.addEventListener("htmx:afterSwap", function () {
    log.scrollTop = log.scrollHeight;
  });
  // The texts come from the template (translated there): nothing customer-visible lives here.
  function showError(text) {
    var message = document.createElement("div");
    message.className = "chat__message chat__message--error";
    message.textContent = text;
    log.appendChild(message);
    log.scrollTop = log.scrollHeight;
  }
  form.addEventListener("htmx:responseError", function () { showError(root.dataset.errorHttp); });
  form.addEventListener("htmx:sendError", function () { showError(root.dataset.errorNetwork); });
})();

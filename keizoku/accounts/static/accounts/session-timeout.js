/* The idle-logout warning: shown before the session ends, 【延長】 extends it by a POST. */
(function () {
  "use strict";
  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var data = dialog.dataset;
  var idle = Number(data.idle);
  var warn = Number(data.warn) * 1000;
  var absoluteEnd = Date.now() + Number(data.absolute) * 1000;
  var idleEnd = 0;
  var timers = [];
  var ticker = null;
  var idleText = document.getElementById("session-timeout-idle");
  var absoluteText = document.getElementById("session-timeout-absolute");
  var extendButton = dialog.querySelector("[data-session-extend]");

  function clearTimers() {
    timers.forEach(clearTimeout);
    timers = [];
    if (ticker) { clearInterval(ticker); ticker = null; }
  }

  function end() { return Math.min(idleEnd, absoluteEnd); }

  function remainingText() {
    var seconds = Math.max(0, Math.round((end() - Date.now()) / 1000));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    // The words come from the template (translated there): 1分30秒 / 1 min 30 s.
    var pattern = !minutes ? data.timeSeconds : rest ? data.timeMinutesSeconds : data.timeMinutes;
    return pattern.replace("{m}", minutes).replace("{s}", rest);
  }

  function render() {
    var byAbsolute = absoluteEnd <= idleEnd;
    idleText.hidden = byAbsolute;
    absoluteText.hidden = !byAbsolute;
    extendButton.hidden = byAbsolute;
    dialog.querySelectorAll("[data-remaining]").forEach(function (node) {
      node.textContent = remainingText();
    });
  }

  function warnNow() {
    render();
    if (!dialog.open) { dialog.showModal(); }
    ticker = setInterval(render, 1000);
  }

  function expire() {
    clearTimers();
    // The server has ended the session too: a GET shows the login page with a message.
    window.location.assign(window.location.pathname + window.location.search);
  }

  function schedule(idleSeconds) {
    clearTimers();
    idleEnd = Date.now() + idleSeconds * 1000;
    timers.push(setTimeout(warnNow, Math.max(0, end() - Date.now() - warn)));
    timers.push(setTimeout(expire, Math.max(0, end() - Date.now() + 1000)));
  }

  extendButton.addEventListener("click", function () {
    fetch(data.extendUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": data.csrf, "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("expired"); }
      return response.json();
    }).then(function (body) {
      absoluteEnd = Date.now() + body.absolute * 1000;
      dialog.close();
      schedule(idle);
    }).catch(expire);
  });
  dialog.querySelector("[data-session-close]").addEventListener("click", function () {
    dialog.close();
  });
  // Every htmx request reaches the server, which counts it as activity.
  document.addEventListener("htmx:afterRequest", function () { schedule(idle); });
  schedule(idle);
}());

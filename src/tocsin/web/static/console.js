// The alerts list refreshes itself every 20 seconds while the tab is visible, unless
// alerts are ticked (an operator about to act keeps the list they are looking at).
// Without JavaScript the page works the same, refreshed by hand.
(function () {
  "use strict";
  var rows = document.getElementById("rows");
  if (!rows || !rows.dataset.refresh) { return; }
  function refresh() {
    if (document.hidden || rows.querySelector("input[type=checkbox]:checked")) { return; }
    fetch(rows.dataset.refresh, { credentials: "same-origin", redirect: "error" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html !== null) { rows.innerHTML = html; } })
      .catch(function () { /* signed out or offline: keep what is shown */ });
  }
  window.setInterval(refresh, 20000);
})();

// A silence's, maintenance window's or known issue's form previews the open alerts it
// would mute as you type: its fields (but the CSRF token) go to its data-preview URL and
// the answer replaces #preview. Without JavaScript the Preview button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview]");
  if (!form) { return; }
  var timer = null;
  function show() {
    var fields = new URLSearchParams(new FormData(form));
    fields.delete("csrf");
    fetch(form.dataset.preview + "?" + fields.toString(), { credentials: "same-origin", redirect: "error" })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var old = document.getElementById("preview");
        if (old) { old.outerHTML = html; }
      })
      .catch(function () { /* keep the last preview */ });
  }
  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(show, 300);
  });
})();

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

// A silence's form previews the open alerts its matchers would mute as you type.
(function () {
  "use strict";
  var box = document.getElementById("matchers");
  if (!box || !box.dataset.preview) { return; }
  var timer = null;
  function show() {
    var url = box.dataset.preview + "?matchers=" + encodeURIComponent(box.value);
    fetch(url, { credentials: "same-origin", redirect: "error" })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var old = document.getElementById("preview");
        if (old) { old.outerHTML = html; }
      })
      .catch(function () { /* keep the last preview */ });
  }
  box.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(show, 300);
  });
})();

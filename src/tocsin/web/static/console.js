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

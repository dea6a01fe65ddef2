// An exported status page: show the stale banner once this copy is older than the
// threshold it was exported with (the page works without this script; it only warns).
(function () {
  var me = document.currentScript;
  var exported = Date.parse(me.getAttribute("data-exported"));
  var after = Number(me.getAttribute("data-stale-after")) * 1000;
  if (Date.now() - exported > after) {
    document.getElementById("stale").hidden = false;
  }
})();

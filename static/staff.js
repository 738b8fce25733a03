/* Optional keyboard shortcuts for hotline staff (listed on the help page). Served by the app
   itself; the portal works the same without it. Never acts while the person types in a field. */
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll(".queue-table .row-link"));
  }
  function moveInQueue(step) {
    var links = rowLinks();
    if (!links.length) { return; }
    var index = links.indexOf(document.activeElement);
    var next = index === -1 ? (step > 0 ? 0 : links.length - 1) : index + step;
    if (next >= 0 && next < links.length) { links[next].focus(); }
  }
  function follow(id) {
    var link = document.getElementById(id);
    if (link) { window.location.href = link.href; }
  }
  function press(id) {
    var button = document.getElementById(id);
    if (button && !button.disabled) { button.click(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    switch (event.key) {
      case "j": moveInQueue(1); break;
      case "k": moveInQueue(-1); break;
      case "n": follow("next-referral"); break;
      case "p": follow("previous-referral"); break;
      case "a": press("acknowledge"); break;
      case "m": press("assign-me"); break;
      case "/":
        var search = document.getElementById("q");
        if (search) { event.preventDefault(); search.focus(); }
        break;
      default: return;
    }
  });
})();

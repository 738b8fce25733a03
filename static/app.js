/* The only script the site runs. Everything works without it: it adds the Shift-key quick exit,
   makes the exit faster, re-checks a page the browser brings back from its history, and registers
   the service worker that keeps the static shell for offline use. It never stores anything. */
(function () {
  "use strict";

  var bar = document.getElementById("exit-bar");
  var status = document.getElementById("exit-status");
  var link = document.getElementById("quick-exit");
  var PRESSES = 3;
  var WINDOW_MS = 5000;
  var presses = [];
  var leaving = false;
  var shiftDown = false;
  var shiftAlone = false;

  document.documentElement.classList.add("js");

  function leave() {
    if (leaving || !bar) {
      return;
    }
    leaving = true;
    // Hide the page at once: the neutral site may take a moment to load.
    document.documentElement.classList.add("leaving");
    if (status) {
      status.textContent = bar.getAttribute("data-leaving") || "";
    }
    // replace(): this page is not kept in the tab's history. /exit ends any sign-in, asks the
    // browser to clear this site's data and sends the browser to the neutral site.
    window.location.replace(bar.getAttribute("data-exit-url") || "/exit");
  }

  if (link) {
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      leave();
    });
  }

  function resetCount() {
    if (presses.length && status) {
      status.textContent = "";
    }
    presses = [];
  }

  // A press counts when Shift goes up without any other key or a click while it was down, so
  // typing capitals, Shift+Tab or Shift+click never adds up to an exit, and never makes a screen
  // reader speak.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Shift") {
      if (!event.repeat) {
        shiftDown = true;
        shiftAlone = true;
      }
      return;
    }
    shiftAlone = false;
    resetCount();
  });

  document.addEventListener("mousedown", function () {
    shiftAlone = false;
    resetCount();
  });

  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift" || !shiftDown) {
      return;
    }
    shiftDown = false;
    if (!shiftAlone) {
      return;
    }
    var now = Date.now();
    presses = presses.filter(function (at) { return now - at < WINDOW_MS; });
    presses.push(now);
    var left = PRESSES - presses.length;
    if (left <= 0) {
      presses = [];
      leave();
    } else if (status && bar) {
      status.textContent = bar.getAttribute(left === 2 ? "data-press-two" : "data-press-one") || "";
    }
  });

  // A page brought back from the back-forward cache was not asked of the server again: hide it
  // and ask again, so a page that showed a case shows it only if the sign-in is still there.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.documentElement.classList.add("leaving");
      window.location.reload();
    }
  });

  // The site never asks to be installed; a person can still add it to a home screen themselves.
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
  });

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      // The worker is asked for in the page's language, so its offline page is in that language.
      var worker = "/service-worker.js?lang=" + encodeURIComponent(document.documentElement.lang);
      navigator.serviceWorker.register(worker, { scope: "/" }).catch(function () {
        // Without the worker everything still works; there is nothing to tell the reader.
      });
    });
  }
})();

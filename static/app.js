/* The only script the site runs. Everything works without it: it adds the Shift-key quick exit,
   makes the exit faster, re-checks a page the browser brings back from its history, and registers
   the service worker that keeps the static shell for offline use. It never stores anything. */
(function () {
  "use strict";

  var bar = document.getElementById("exit-bar");
  var status = document.getElementById("exit-status");
  var link = document.getElementById("quick-exit");
  var count = document.getElementById("exit-count");
  var PRESSES = 3;
  var WINDOW_MS = 5000;
  var presses = [];
  var leaving = false;
  var shiftDown = false;
  var shiftAlone = false;
  var expiry = null;

  document.documentElement.classList.add("js");

  // "Or press Shift 3 times" is for a keyboard: shown where a mouse or touchpad is (a keyboard
  // is likely there) or once Shift or Tab is pressed, which a phone's on-screen keyboard does not
  // send. A touch phone never shows it.
  function keyboardSeen() {
    document.documentElement.classList.add("keyboard");
  }
  if (window.matchMedia && window.matchMedia("(hover: hover) and (pointer: fine)").matches) {
    keyboardSeen();
  }

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

  // The count shows by the exit button ("Shift: 1 of 3") and the polite status says it to a
  // screen reader; both go when the presses are too old to add up to an exit (5 seconds).
  function showCount(speak) {
    if (!bar) {
      return;
    }
    var shown = ["", "data-count-one", "data-count-two"][presses.length] || "";
    if (count) {
      count.textContent = shown ? bar.getAttribute(shown) || "" : "";
    }
    if (status && (speak || !presses.length)) {
      var left = PRESSES - presses.length;
      status.textContent = presses.length ?
        bar.getAttribute(left === 2 ? "data-press-two" : "data-press-one") || "" : "";
    }
  }

  function forgetOldPresses() {
    window.clearTimeout(expiry);
    expiry = null;
    var now = Date.now();
    presses = presses.filter(function (at) { return now - at < WINDOW_MS; });
    if (presses.length) {
      expiry = window.setTimeout(function () {
        forgetOldPresses();
        showCount(false);
      }, presses[0] + WINDOW_MS - now);
    }
  }

  function resetCount() {
    var counted = presses.length;
    presses = [];
    forgetOldPresses();
    if (counted) {
      showCount(false);
    }
  }

  // A press counts when Shift goes up without any other key or a click while it was down, so
  // typing capitals, Shift+Tab or Shift+click never adds up to an exit, and never makes a screen
  // reader speak.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Shift" || event.key === "Tab") {
      keyboardSeen();
    }
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
    presses.push(Date.now());
    forgetOldPresses();
    if (presses.length >= PRESSES) {
      presses = [];
      forgetOldPresses();
      showCount(false);
      leave();
    } else {
      showCount(true);
    }
  });

  // A form sent to an address ending in #results (the dry run on "Where will my report go?")
  // opens at its answer; the answer's heading, or what to fix, also takes the focus, so a
  // screen reader starts there rather than at the top of the page.
  if (window.location.hash === "#results") {
    var answer = document.getElementById("results");
    if (answer && answer.tabIndex === -1) {
      answer.focus();
    }
  }

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

/* The survivor's pages: copy buttons, one place shown at a time, and a warning before the idle
   sign-out. Each is an addition: without the script, the text can be selected, each place has its
   own "Show", and a message typed when the sign-in has ended is kept on the sign-in page. */
(function () {
  "use strict";

  // Copy buttons: shown only where the script runs. The text copied is already on the page.
  function announce(button, text) {
    var status = button.nextElementSibling;
    if (!status || !status.classList.contains("copy-status")) {
      status = document.createElement("span");
      status.className = "copy-status";
      status.setAttribute("role", "status");
      button.parentNode.insertBefore(status, button.nextSibling);
    }
    status.textContent = text;
  }

  function copyFrom(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    return new Promise(function (resolve, reject) {
      field.removeAttribute("aria-hidden");
      field.select();
      var copied = document.execCommand && document.execCommand("copy");
      window.getSelection().removeAllRanges();
      if (copied) { resolve(); } else { reject(new Error("copy")); }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("button.copy[data-copy]"), function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copyFrom(field).then(function () {
        announce(button, button.getAttribute("data-copied") || "");
      }, function () {
        field.focus();
        field.select();
      });
    });
  });

  // One place shown at a time: opening one hides the others.
  var reveals = document.querySelectorAll("details.reveal");
  Array.prototype.forEach.call(reveals, function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open) {
        return;
      }
      Array.prototype.forEach.call(reveals, function (other) {
        if (other !== details) {
          other.open = false;
        }
      });
    });
  });

  // A minute before the idle sign-out, a notice with "Stay signed in".
  var warning = document.getElementById("idle-warning");
  if (!warning) {
    return;
  }
  var idleSeconds = parseInt(warning.getAttribute("data-idle-seconds"), 10) || 0;
  var timers = [];
  function schedule() {
    timers.forEach(window.clearTimeout);
    timers = [];
    if (idleSeconds <= 60) {
      return;
    }
    timers.push(window.setTimeout(function () {
      warning.hidden = false;
      var message = warning.querySelector(".idle-soon");
      var ended = warning.querySelector(".idle-ended");
      if (message) { message.hidden = false; }
      if (ended) { ended.hidden = true; }
    }, (idleSeconds - 60) * 1000));
    timers.push(window.setTimeout(function () {
      var message = warning.querySelector(".idle-soon");
      var ended = warning.querySelector(".idle-ended");
      if (message) { message.hidden = true; }
      if (ended) { ended.hidden = false; }
    }, idleSeconds * 1000));
  }
  var stay = warning.querySelector("button.stay");
  if (stay) {
    stay.addEventListener("click", function () {
      // A plain form body: the only kind the site takes.
      var body = new URLSearchParams();
      body.append(warning.getAttribute("data-csrf-field") || "", warning.getAttribute("data-csrf") || "");
      fetch(warning.getAttribute("data-keep-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (response.status === 204) {
          warning.hidden = true;
          schedule();
        } else {
          var ended = warning.querySelector(".idle-ended");
          var soon = warning.querySelector(".idle-soon");
          if (soon) { soon.hidden = true; }
          if (ended) { ended.hidden = false; }
        }
      }, function () {
        // No answer (no connection): the warning stays, and the button can be pressed again.
      });
    });
  }
  schedule();
})();

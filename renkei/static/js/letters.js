// The printed notices (templates/letters/index.html) and the 次第 (templates/prints/order.html):
// the print button, shown only where scripts run (no inline script: the Content-Security-Policy
// allows none).
(function () {
  "use strict";

  function start() {
    document.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

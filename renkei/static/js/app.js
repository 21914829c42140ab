// Small behaviours for every page; each page works without them.
(function () {
  "use strict";

  // Ask before a form marked data-confirm="question" is sent (deleting, for example).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // A button with data-copy="text" copies the text; it stays hidden where the browser
  // cannot copy (the text beside it can still be selected by hand).
  function copyButtons() {
    if (!navigator.clipboard) {
      return;
    }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var status = document.getElementById(button.getAttribute("aria-controls"));
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          if (status) {
            status.textContent = button.dataset.copied;
          }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", copyButtons);
})();

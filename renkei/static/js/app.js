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

  // A page that comes back with errors: the focus goes to the summary of what is wrong,
  // so that a screen reader reads it first and the keyboard starts from there.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  // A link in the summary moves the focus to the field it names (following the link
  // alone would only scroll), with the field's label or legend kept in view.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) {
      return;
    }
    event.preventDefault();
    var group = field.closest("fieldset");
    var caption = field.labels && field.labels.length && !field.closest("label") ? field.labels[0] : null;
    var shown = caption || (group && group.querySelector("legend")) || field;
    shown.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });

  // The Markdown preview of the agenda and minutes editors: post ``text`` to ``url`` and show
  // in ``output`` the HTML the server renders (sanitised there), its plain-text refusal as
  // text, any other failure as ``error``. ``current``, if given, says whether the answer is
  // still wanted (a later preview may be on its way). The promise settles once shown.
  function markdownPreview(url, text, token, output, error, current) {
    var wanted = current || function () {
      return true;
    };
    var data = new FormData();
    data.append("text", text);
    data.append("csrf_token", token);
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token },
    })
      .then(function (response) {
        return response.text().then(function (answer) {
          if (!wanted()) {
            return;
          }
          var type = response.headers.get("Content-Type") || "";
          if (response.ok && type.indexOf("text/html") === 0) {
            output.innerHTML = answer; // sanitised on the server (nh3)
          } else if (type.indexOf("text/plain") === 0) {
            output.textContent = answer;
          } else {
            output.textContent = error;
          }
        });
      })
      .catch(function () {
        if (wanted()) {
          output.textContent = error;
        }
      });
  }

  // Shared with the page scripts (agenda.js, minutes.js), which base.html loads after this.
  window.Renkei = { markdownPreview: markdownPreview };

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    focusErrorSummary();
  });
})();

// Minutes: each section saves itself a few seconds after typing stops, keeps the revision
// it started from, and on a conflict shows the other person's text beside one's own.
// Without JavaScript every section still saves with its own button.
(function () {
  "use strict";

  var DELAY = 3000;

  function autosave(form) {
    var textarea = form.querySelector("textarea");
    var revision = form.querySelector("input[name$='revision']");
    var state = form.querySelector(".save-state");
    var conflictBox = form.querySelector(".conflict-box");
    var timer = null;
    var saving = false;
    var dirty = false;
    var typedMeanwhile = false;

    function say(text, failed) {
      state.textContent = text;
      state.classList.toggle("failed", !!failed);
    }

    function showConflict(data) {
      conflictBox.textContent = "";
      var message = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = data.message;
      message.appendChild(strong);
      var title = document.createElement("h3");
      title.textContent = form.dataset.conflictTitle;
      var theirs = document.createElement("pre");
      theirs.className = "theirs";
      theirs.textContent = data.theirs; // as text: never interpreted as HTML
      conflictBox.appendChild(message);
      conflictBox.appendChild(title);
      conflictBox.appendChild(theirs);
      conflictBox.hidden = false;
      // Saving again now overwrites knowingly: the next save names their revision.
      revision.value = data.revision;
    }

    function save() {
      timer = null;
      if (saving || !dirty) {
        return;
      }
      saving = true;
      dirty = false;
      say(form.dataset.saving);
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (response.ok) {
              revision.value = data.revision;
              var now = new Date();
              var minutes = String(now.getMinutes()).padStart(2, "0");
              say(form.dataset.saved + " " + now.getHours() + ":" + minutes);
            } else if (response.status === 409 && data.conflict) {
              showConflict(data);
              say(data.message, true);
            } else {
              dirty = true;
              say(data.error || form.dataset.failed, true);
            }
          });
        })
        .catch(function () {
          dirty = true;
          say(form.dataset.failed, true);
        })
        .then(function () {
          saving = false;
          if (typedMeanwhile) {
            typedMeanwhile = false; // what was typed while this save was on its way
            timer = setTimeout(save, DELAY);
          }
        });
    }

    textarea.addEventListener("input", function () {
      dirty = true;
      typedMeanwhile = saving;
      say(form.dataset.unsaved);
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(save, DELAY);
    });
    form.addEventListener("submit", function () {
      dirty = false; // the page's own save takes over
    });
    return function () {
      return dirty || saving;
    };
  }

  function start() {
    var pending = [];
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      pending.push(autosave(form));
    });
    if (pending.length) {
      window.addEventListener("beforeunload", function (event) {
        if (pending.some(function (isPending) { return isPending(); })) {
          event.preventDefault();
          event.returnValue = "";
        }
      });
    }
    // Printing is logged (audit) before the browser's print dialog opens.
    document.querySelectorAll("form[data-print-log]").forEach(function (form) {
      var button = form.querySelector("button[data-print]");
      button.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
          .catch(function () {})
          .then(function () {
            window.print();
          });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

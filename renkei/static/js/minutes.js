// Minutes: each section saves itself a few seconds after typing stops, keeps the revision
// it started from, and on a conflict shows the other person's text beside one's own; a
// toolbar formats the text and a preview beside it shows how it will read.
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

  // --- Writing without knowing Markdown -------------------------------------------------
  // The toolbar puts the marks in the text (the text stays the one truth, editable by hand);
  // the preview beside it shows how the text will read, as the server renders it.

  var PREVIEW_DELAY = 400;
  var PREFIXES = { heading: "### ", list: "- " };

  // Replace the selection with ``text`` and select [start, end) of it: through the editing
  // command where the browser has it (so that undo works), or by setting the value.
  function replaceSelection(textarea, text, start, end) {
    var from = textarea.selectionStart;
    textarea.focus();
    var done = false;
    try {
      done = document.execCommand("insertText", false, text);
    } catch (error) {
      done = false;
    }
    if (!done || textarea.value.substr(from, text.length) !== text) {
      textarea.setRangeText(text, from, textarea.selectionEnd, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    textarea.setSelectionRange(from + start, from + end);
  }

  // Bold: ``**`` around the selection, or around a sample word that typing replaces.
  function bold(textarea, sample) {
    var chosen = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd);
    var inner = chosen || sample;
    replaceSelection(textarea, "**" + inner + "**", 2, 2 + inner.length);
  }

  // A heading or a list: the mark at the start of every line the selection touches; on an
  // empty line, the mark and a sample that typing replaces. Pressed again, it comes off.
  function prefixLines(textarea, prefix, sample) {
    var value = textarea.value;
    var from = textarea.selectionStart;
    var to = textarea.selectionEnd;
    if (to > from && value[to - 1] === "\n") {
      to -= 1; // a selection ending with a line break does not take in the next line
    }
    var start = from === 0 ? 0 : value.lastIndexOf("\n", from - 1) + 1;
    var end = value.indexOf("\n", to);
    if (end === -1) {
      end = value.length;
    }
    var lines = value.slice(start, end).split("\n");
    var text;
    textarea.setSelectionRange(start, end);
    if (lines.length === 1 && !lines[0].trim()) {
      text = gapBefore(value, start, prefix) + prefix + sample;
      replaceSelection(textarea, text, text.length - sample.length, text.length);
      return;
    }
    var marked = lines.every(function (line) { return line.indexOf(prefix) === 0 || !line.trim(); });
    text = lines
      .map(function (line) {
        if (!line.trim()) {
          return line;
        }
        var bare = line.replace(/^(#+ |- |\* )/, "");
        return marked ? bare : prefix + bare;
      })
      .join("\n");
    if (!marked) {
      text = gapBefore(value, start, prefix) + text;
    }
    replaceSelection(textarea, text, 0, text.length);
  }

  // A list begins only after a blank line, a heading or another list: right under a line
  // of plain text its marks would read as part of that text, so a blank line goes first.
  function gapBefore(value, start, prefix) {
    if (prefix !== PREFIXES.list || start === 0) {
      return "";
    }
    var previous = value.slice(value.lastIndexOf("\n", start - 2) + 1, start - 1);
    return previous.trim() && !/^\s*([-*+] |\d+\. |#{1,6} )/.test(previous) ? "\n" : "";
  }

  function toolbar(editor, textarea) {
    var bar = editor.querySelector(".editor-toolbar");
    if (!bar) {
      return;
    }
    bar.hidden = false;
    bar.querySelectorAll("button[data-format]").forEach(function (button) {
      button.addEventListener("click", function () {
        var format = button.dataset.format;
        if (format === "bold") {
          bold(textarea, button.dataset.sample);
        } else {
          prefixLines(textarea, PREFIXES[format], button.dataset.sample);
        }
      });
    });
  }

  function livePreview(editor, textarea, token) {
    var pane = editor.querySelector(".editor-preview");
    var output = pane && pane.querySelector(".markdown-preview");
    if (!output || !token) {
      return;
    }
    pane.hidden = false;
    editor.classList.add("with-preview");
    var timer = null;
    var asked = 0;

    function show() {
      timer = null;
      var number = ++asked;
      window.Renkei.markdownPreview(
        editor.dataset.previewUrl,
        textarea.value,
        token.value,
        output,
        editor.dataset.previewError,
        function () {
          return number === asked; // else a later preview is on its way
        }
      );
    }

    textarea.addEventListener("input", function () {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(show, PREVIEW_DELAY);
    });
  }

  function editors() {
    var found = document.querySelectorAll("[data-editor]");
    found.forEach(function (editor) {
      var textarea = editor.querySelector("textarea");
      var form = editor.closest("form");
      var token = form && form.querySelector("input[name$='csrf_token']");
      if (!textarea) {
        return;
      }
      toolbar(editor, textarea);
      livePreview(editor, textarea, token);
    });
    if (found.length) {
      document.querySelectorAll(".editor-help").forEach(function (help) {
        help.hidden = false;
      });
    }
  }

  function start() {
    editors();
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

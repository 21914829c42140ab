// Agenda extras: drag-and-drop reordering and Markdown preview (the fetch is app.js's).
// Everything here is progressive enhancement: the pages work without it (up/down buttons,
// plain form posts). No inline script anywhere: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function rowIds(body) {
    return Array.prototype.map.call(body.querySelectorAll("tr[data-item-id]"), function (row) {
      return row.dataset.itemId;
    });
  }

  // Drag a row to a new place; on drop, the full order is posted to the order route, which
  // answers with the session page again.
  function sortable() {
    var body = document.querySelector("tbody[data-sortable]");
    var form = document.getElementById("agenda-order-form");
    if (!body || !form) {
      return;
    }
    var hint = document.getElementById("agenda-drag-hint");
    if (hint) {
      hint.hidden = false;
    }
    var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-item-id]"));
    var before = rowIds(body);
    var dragged = null;
    var dropped = false;

    function restore() {
      rows.forEach(function (row) {
        body.appendChild(row);
      });
    }

    rows.forEach(function (row) {
      row.draggable = true;
      row.style.cursor = "move";
      row.addEventListener("dragstart", function (event) {
        dragged = row;
        dropped = false;
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", row.dataset.itemId);
      });
      row.addEventListener("dragover", function (event) {
        if (!dragged) {
          return;
        }
        event.preventDefault();
        if (row === dragged) {
          return;
        }
        var box = row.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        body.insertBefore(dragged, after ? row.nextSibling : row);
      });
      row.addEventListener("drop", function (event) {
        if (dragged) {
          event.preventDefault();
          dropped = true;
        }
      });
      row.addEventListener("dragend", function () {
        var order = rowIds(body);
        dragged = null;
        if (!dropped) {
          restore();
          return;
        }
        if (order.join(",") !== before.join(",")) {
          form.elements.order.value = order.join(",");
          form.submit();
        }
      });
    });
  }

  // Show the sanitised HTML the server renders from the description's Markdown.
  function previews() {
    document.querySelectorAll("button[data-preview-for]").forEach(function (button) {
      var textarea = document.getElementById(button.dataset.previewFor);
      var output = document.getElementById(button.dataset.previewOutput);
      var token = button.form && button.form.querySelector("input[name$='csrf_token']");
      if (!textarea || !output || !token) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        window.Renkei.markdownPreview(
          button.dataset.previewUrl,
          textarea.value,
          token.value,
          output,
          button.dataset.previewError
        ).then(function () {
          output.hidden = false;
        });
      });
    });
  }

  function start() {
    sortable();
    previews();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

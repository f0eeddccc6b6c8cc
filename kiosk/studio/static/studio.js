/* Kiosk studio: small helps on top of pages that work without this script.
 * - the editors: problems shown as you type (the edit is checked by the studio, not saved),
 *   a warning before leaving with unsaved changes, a preview of a picture chosen;
 * - the works page: a filter applies as soon as it is chosen;
 * - publishing: its progress, followed until it ends;
 * - "Go back" links.
 */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  /* -- editors ------------------------------------------------------------------------- */

  function fieldElement(form, path) {
    // the field a problem is about, else the closest group (qa.2.questions → qa.2)
    var parts = path ? path.split(".") : [];
    while (parts.length) {
      var key = parts.join(".");
      var el = form.querySelector('[data-field="' + CSS.escape(key) + '"]') ||
               form.querySelector('[data-group="' + CSS.escape(key) + '"]');
      if (el) { return el; }
      parts.pop();
    }
    return null;
  }

  function showProblems(form, problems) {
    var panel = $("#problems");
    if (!panel) { return; }
    var list = $("#problems-list", panel);
    var count = $("#problems-count", panel);
    list.textContent = "";
    $all(".field-problem", form).forEach(function (p) { p.hidden = true; p.textContent = ""; });
    $all("[aria-invalid]", form).forEach(function (el) { el.removeAttribute("aria-invalid"); });
    problems.forEach(function (p) {
      var item = document.createElement("li");
      item.className = p.error ? "error" : "warning";
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = p.error ? "error" : "warning";
      item.appendChild(kind);
      if (p.line) {
        var line = document.createElement("span");
        line.className = "line";
        line.textContent = "line " + p.line;
        item.appendChild(line);
      }
      var message = document.createElement("span");
      message.className = "message";
      message.textContent = p.message;
      item.appendChild(message);
      list.appendChild(item);
      var el = fieldElement(form, p.field);
      if (!el) { return; }
      var holder = el.matches("fieldset") ? el : el.closest(".lang-cell, fieldset");
      var slot = holder && (el.matches("fieldset") ? $(".group-problem", holder) :
                            el.parentNode.querySelector(".field-problem"));
      if (slot) {
        slot.hidden = false;
        slot.textContent = (slot.textContent ? slot.textContent + " " : "") + p.message;
        slot.classList.toggle("warning", !p.error);
      }
      if (p.error && !el.matches("fieldset")) { el.setAttribute("aria-invalid", "true"); }
    });
    count.textContent = String(problems.length);
    panel.classList.toggle("empty", problems.length === 0);
  }

  function setStatus(text) {
    var status = $("#save-status");
    if (status) { status.textContent = text; }
  }

  function editor(form) {
    var url = form.getAttribute("data-validate");
    var dirty = false;
    var timer = null;
    var sent = 0;

    function check() {
      var data = new FormData(form);
      data.delete("image_file");
      var body = new URLSearchParams();
      data.forEach(function (value, key) { if (typeof value === "string") { body.append(key, value); } });
      var mine = ++sent;
      fetch(url, { method: "POST", body: body, credentials: "same-origin",
                   headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (result) {
          if (mine !== sent) { return; }  // an older answer: a newer check is on its way
          if (result.error) { setStatus(result.error); return; }
          showProblems(form, result.problems || []);
          var errors = (result.problems || []).filter(function (p) { return p.error; }).length;
          var words = errors ? errors + (errors > 1 ? " errors" : " error") : "no error";
          setStatus("Unsaved changes · " + words +
                    (result.changed_on_disk ? " · the file was changed on disk: saving will offer to merge" : ""));
        })
        .catch(function () { setStatus("Unsaved changes (could not check them just now)"); });
    }

    form.addEventListener("input", function () {
      dirty = true;
      setStatus("Unsaved changes");
      clearTimeout(timer);
      timer = setTimeout(check, 450);
    });
    form.addEventListener("submit", function () { dirty = false; setStatus("Saving…"); });
    var discard = $("#discard");
    if (discard) { discard.addEventListener("click", function () { dirty = false; }); }
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    var file = $("#image-file", form);
    if (file) {
      file.addEventListener("change", function () {
        var preview = $("#picture");
        if (!file.files.length || !preview) { return; }
        var img = document.createElement("img");
        img.id = "picture";
        img.alt = "The new picture (stored when you save)";
        img.src = URL.createObjectURL(file.files[0]);
        preview.replaceWith(img);
        dirty = true;
        setStatus("Unsaved changes · a new picture");
      });
    }
  }

  $all("form[data-validate]").forEach(editor);

  /* a text box grows with its text (up to most of the screen) */
  function fit(area) {
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight + 2, window.innerHeight * 0.7) + "px";
  }
  $all("form[data-validate] textarea").forEach(function (area) {
    fit(area);
    area.addEventListener("input", function () { fit(area); });
  });

  /* -- works page: filters apply at once ------------------------------------------------ */

  var filters = $("#filters");
  if (filters) {
    $all("select", filters).forEach(function (select) {
      select.addEventListener("change", function () { filters.submit(); });
    });
  }

  /* -- publishing: follow its progress -------------------------------------------------- */

  var job = $("#publish-job");
  if (job && job.getAttribute("data-state") === "running") {
    var poll = job.getAttribute("data-poll");
    var follow = function () {
      fetch(poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          var bar = $("#progress");
          $("#publish-stage").textContent = s.stage;
          if (s.total) { bar.max = s.total; bar.value = s.done; } else { bar.removeAttribute("value"); }
          var status = $("#publish-status");
          job.setAttribute("data-state", s.state);
          status.className = s.state;
          if (s.state === "running") { status.textContent = "Working…"; setTimeout(follow, 700); return; }
          status.textContent = s.message;
          if (s.state === "done") {
            bar.max = 1; bar.value = 1;
            $all("#publish-summary [data-key]").forEach(function (row) {
              var items = (s.summary || {})[row.getAttribute("data-key")] || [];
              $("dd", row).textContent = items.length ? items.join(", ") : "—";
            });
            $("#publish-summary").hidden = false;
          }
        })
        .catch(function () { setTimeout(follow, 2000); });
    };
    setTimeout(follow, 400);
  }

  /* -- "Go back" ---------------------------------------------------------------------- */

  $all("[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
}());

// Mentions as you type: after `@` in a composer's text, ask /api/mentions/suggest and offer the people
// found in the page's listbox (#mention-suggestions). Arrow keys move through them, Enter or Tab
// inserts `@localpart`, Escape closes; the textarea keeps focus and points at the option with
// aria-activedescendant. Text is inserted with textContent only.
(function () {
  "use strict";
  var list = document.getElementById("mention-suggestions");
  var fields = document.querySelectorAll("form textarea[name=body]");
  if (!list || fields.length === 0) { return; }
  var TYPED = /(^|[^\w.@+-])@([\w.%+-]{1,64})$/;
  var field = null;
  var found = [];
  var active = -1;
  var latest = 0;
  var timer = null;

  function typed(area) {
    var match = TYPED.exec(area.value.slice(0, area.selectionStart));
    return match ? match[2] : null;
  }
  function close() {
    found = [];
    active = -1;
    list.replaceChildren();
    list.hidden = true;
    if (field) { field.removeAttribute("aria-activedescendant"); }
  }
  function mark(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (option, at) {
      option.setAttribute("aria-selected", at === index ? "true" : "false");
    });
    if (index >= 0) { field.setAttribute("aria-activedescendant", list.children[index].id); }
    else { field.removeAttribute("aria-activedescendant"); }
  }
  function show(area, people) {
    field = area;
    found = people;
    list.replaceChildren();
    people.forEach(function (person, at) {
      var option = document.createElement("li");
      option.id = "mention-option-" + at;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      var name = document.createElement("span");
      name.textContent = person.name;
      var address = document.createElement("span");
      address.className = "muted";
      address.textContent = " @" + person.local_part;
      option.append(name, address);
      option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(at); });
      list.append(option);
    });
    area.insertAdjacentElement("afterend", list);
    list.hidden = people.length === 0;
    active = -1;
    area.removeAttribute("aria-activedescendant");
  }
  function choose(index) {
    var person = found[index];
    var before = field.value.slice(0, field.selectionStart);
    var query = typed(field);
    if (!person || query === null) { close(); return; }
    var start = before.length - query.length - 1;
    var after = field.value.slice(field.selectionStart);
    var inserted = "@" + person.local_part + " ";
    field.value = field.value.slice(0, start) + inserted + after;
    field.selectionStart = field.selectionEnd = start + inserted.length;
    close();
    field.focus();
  }
  function ask(area) {
    clearTimeout(timer);
    var query = typed(area);
    if (query === null) { close(); return; }
    timer = setTimeout(function () {
      var asked = ++latest;
      fetch("/api/mentions/suggest?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (answer) { if (asked === latest) { show(area, answer.suggestions); } })
        .catch(close);
    }, 100);
  }
  Array.prototype.forEach.call(fields, function (area) {
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);
    area.addEventListener("input", function () { ask(area); });
    area.addEventListener("blur", function () { setTimeout(close, 150); });
    area.addEventListener("keydown", function (event) {
      if (list.hidden || field !== area || found.length === 0) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); mark((active + 1) % found.length); }
      else if (event.key === "ArrowUp") { event.preventDefault(); mark(active <= 0 ? found.length - 1 : active - 1); }
      else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
    });
  });
}());
